using System.Globalization;
using System.Text;
using FedMesh.Core.Resources;

namespace FedMesh.Linker.Commands;

/// <summary>The plain-text output of <c>failover status</c> and <c>failover simulate</c> (golden-file tested; no colours, fixed columns).</summary>
internal static class FailoverReport
{
    public static string Status(string cluster, FailoverPolicy policy)
    {
        var s = policy.Status;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"policy:   {policy.Namespace}/{policy.Name} (cluster {cluster})\n");
        text.Append(CultureInfo.InvariantCulture, $"service:  {policy.Spec.Service}\n");
        text.Append(CultureInfo.InvariantCulture, $"targets:  {string.Join(" -> ", policy.Spec.Targets.Select(t => t.Cluster))}\n");
        text.Append(CultureInfo.InvariantCulture, $"active:   {s?.ActiveTarget ?? "(not decided yet: is the cluster's controller running?)"}\n");
        text.Append(CultureInfo.InvariantCulture, $"since:    {s?.Since ?? "-"}\n");
        text.Append(CultureInfo.InvariantCulture, $"why:      {s?.Reason ?? "-"}\n");
        foreach (var c in s?.Conditions ?? [])
            text.Append(CultureInfo.InvariantCulture, $"{(c.Status == "True" ? "ok" : "warning")}:  {c.Type}={c.Status} {c.Reason}: {c.Message}\n");
        return text.ToString();
    }

    public static string Simulation(string down, IReadOnlyList<SimulationRow> rows)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Simulated: cluster {down} down (nothing was changed)\n");
        if (rows.Count == 0)
            return text.Append("No failover policies.\n").ToString();
        string[] header = ["CLUSTER", "POLICY", "SERVICE", "#", "TARGET", "HEALTHY", "WEIGHT", "NOTE"];
        var cells = rows.Select(r => new[] { r.Cluster, r.Policy, r.Service, r.Order.ToString(CultureInfo.InvariantCulture), r.Target,
            r.HealthyPercent.ToString(CultureInfo.InvariantCulture) + "%", r.Weight.ToString(CultureInfo.InvariantCulture) + "%", r.Note }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Max(c => c[i].Length))).ToArray();
        void Line(string[] values) => text.Append(string.Join("  ", values.Select((v, i) => i == values.Length - 1 ? v : v.PadRight(widths[i])))).Append('\n');
        Line(header);
        foreach (var c in cells)
            Line(c);
        return text.ToString();
    }
}
