using FedMesh.Core.Canary;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry.Protocol;
using Spectre.Console;

namespace FedMesh.Linker.Commands;

/// <summary>What <c>fedmesh canary status</c> prints (and returns as JSON).</summary>
internal sealed record CanaryStatusReport(
    string Cluster, string Namespace, string Name, string Service, string Phase, int FailedChecks, int? Threshold,
    CanaryAnalysis? Analysis, IReadOnlyList<CanaryBackendReport> Backends, string? LastAnalysis, IReadOnlyList<string> History,
    double WindowSeconds, string? Note)
{
    public static CanaryStatusReport Create(TrafficSplit split, string cluster, IReadOnlyList<RequestSummary> observed, TimeSpan window, string? note)
    {
        var backends = new List<CanaryBackendReport>();
        var effective = SplitWeights.Effective(split);
        for (var i = 0; i < effective.Count; i++)
        {
            var b = effective[i];
            var name = SplitWeights.RouteService(b, cluster);
            ulong requests = 0, failures = 0;
            double? p99 = null;
            foreach (var e in observed)
            {
                if (e.Backend != name) continue;
                requests += e.Requests;
                failures += e.Failures;
                p99 = Math.Max(p99 ?? 0, e.P99Ms);
            }
            double? success = requests == 0 ? null : 100.0 * (requests - Math.Min(requests, failures)) / requests;
            backends.Add(new CanaryBackendReport(SplitWeights.Describe(b, cluster), name, b.Weight, i == effective.Count - 1 && effective.Count > 1,
                requests, success is null ? null : Math.Round(success.Value, 2), requests == 0 ? null : p99));
        }
        return new CanaryStatusReport(cluster, split.Namespace, split.Name, split.Spec.Service,
            split.Status?.Phase ?? (split.Spec.Analysis is null ? "Static" : "Pending"), split.Status?.FailedChecks ?? 0, split.Spec.Analysis?.Threshold,
            split.Spec.Analysis, backends, split.Status?.LastAnalysis, split.Status?.History ?? [], window.TotalSeconds, note);
    }

    public static Table Table(CanaryStatusReport r)
    {
        var table = Output.Plain("BACKEND", "ROUTE", "WEIGHT", "CANARY", "REQUESTS", "SUCCESS", "P99");
        foreach (var b in r.Backends)
            table.Row(b.Backend, b.Route, b.Weight + "%", b.Canary ? "yes" : "", b.Requests.ToString(),
                b.SuccessRate is { } s ? $"{s:0.##}%" : "-", b.P99Ms is { } p ? $"{p:0.#}ms" : "-");
        return table;
    }

    /// <summary>The lines under the table: phase, analysis, history.</summary>
    public static void WriteDetails(CanaryStatusReport r)
    {
        Console.WriteLine();
        Console.WriteLine($"trafficsplit/{r.Name} in cluster {r.Cluster} (namespace {r.Namespace}), service {r.Service}: phase {r.Phase}" +
            (r.Threshold is { } t ? $", failed checks {r.FailedChecks}/{t}" : ""));
        Console.WriteLine($"observed over the last {r.WindowSeconds:0.###}s by {r.Cluster}'s proxies{(r.Note is null ? "" : "; " + r.Note)}");
        if (r.Analysis is { } a)
            Console.WriteLine($"analysis: step {a.StepWeight}%, max {a.MaxWeight}%, every {a.Interval}, threshold {a.Threshold}" +
                (a.SuccessRate is { } sr ? $", success rate >= {sr.Min}%" : "") + (a.LatencyP99 is { } l ? $", p99 <= {l.Max}" : ""));
        Console.WriteLine($"last analysis: {r.LastAnalysis ?? "-"}");
        if (r.History.Count > 0)
        {
            Console.WriteLine("history:");
            foreach (var line in r.History) Console.WriteLine("  " + line);
        }
    }
}

/// <summary>One backend in <c>fedmesh canary status</c>.</summary>
internal sealed record CanaryBackendReport(string Backend, string Route, int Weight, bool Canary, ulong Requests, double? SuccessRate, double? P99Ms);
