using Spectre.Console;
using Spectre.Console.Rendering;

namespace FedMesh.Linker.Latency;

/// <summary>Renders a <see cref="LatencyReport"/> for people: the probe matrix, then the request table.</summary>
internal static class LatencyView
{
    public static IRenderable Render(LatencyReport report, string? footer = null)
    {
        var parts = new List<IRenderable>
        {
            new Text("GATEWAY PROBES (p50/p95/p99, source row -> target column)"),
            ProbeMatrix(report),
            new Text(""),
            new Text($"REQUESTS over the last {Window(report.WindowSeconds)} (as the source cluster's proxies saw them)"),
        };
        if (report.Requests.Count == 0)
            parts.Add(new Text("  no requests in the window"));
        else
            parts.Add(RequestTable(report));
        foreach (var error in report.Errors)
            parts.Add(new Text("warning: " + error));
        if (footer is not null)
            parts.Add(new Text(footer));
        return new Rows(parts);
    }

    private static Table ProbeMatrix(LatencyReport report)
    {
        var columns = new List<string> { "SOURCE" };
        columns.AddRange(report.Clusters.Select(c => c.ToUpperInvariant()));
        var table = Output.Plain([.. columns]);
        foreach (var source in report.Clusters)
        {
            var row = new string?[report.Clusters.Count + 1];
            row[0] = source;
            for (var i = 0; i < report.Clusters.Count; i++)
            {
                var target = report.Clusters[i];
                var probe = report.Probes.FirstOrDefault(p => p.Source == source && p.Target == target);
                row[i + 1] = target == source ? "·" : probe is null ? "no link" : Cell(probe);
            }
            table.Row(row);
        }
        return table;
    }

    private static string Cell(ProbeLatency probe) => probe.Alive switch
    {
        true => $"{Millis.Format(probe.P50Ms)} / {Millis.Format(probe.P95Ms)} / {Millis.Format(probe.P99Ms)}",
        false => "not alive",
        null => "not probed yet",
    };

    private static Table RequestTable(LatencyReport report)
    {
        var table = Output.Plain("SERVICE", "BACKEND", "SOURCE", "DESTINATION", "RPS", "SUCCESS", "P50", "P95", "P99", "REQUESTS");
        foreach (var r in report.Requests)
            table.Row($"{r.Service}.{r.Namespace}", r.Backend, r.SourceCluster, r.DestinationCluster, $"{r.RatePerSecond:0.##}",
                $"{r.SuccessRate:0.##}%", Millis.Format(r.P50Ms), Millis.Format(r.P95Ms), Millis.Format(r.P99Ms), r.Requests.ToString());
        return table;
    }

    private static string Window(double seconds) =>
        seconds >= 60 && seconds % 60 == 0 ? $"{seconds / 60:0}m" : $"{seconds:0.###}s";
}
