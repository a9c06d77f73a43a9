using System.Globalization;
using FedMesh.Core.Canary;
using FedMesh.Core.Common;
using FedMesh.Core.Resources;
using FedMesh.MirrorController.Discovery;
using FedMesh.MirrorController.Telemetry;

namespace FedMesh.MirrorController.Canary;

/// <summary>
/// Checks a canary against its analysis using what this cluster's proxies measured for the canary
/// backend over the last interval (<see cref="IRequestStatsView"/>): no external metrics system.
/// </summary>
internal sealed class CanaryAnalyzer(IRequestStatsView stats, CanaryOptions options)
{
    public CanaryVerdict Analyze(TrafficSplit split, string cluster, TimeSpan window)
    {
        var analysis = split.Spec.Analysis!;
        var canary = split.Spec.Backends[^1];
        var backend = RouteCompiler.Backend(canary.Service, split.Namespace, canary.Cluster, 0, cluster).Service;
        var summary = stats.Summarize(window, split.Namespace, split.Spec.Service, backend);
        var name = SplitWeights.Describe(canary, cluster);
        var over = DurationParser.Format(window);
        if (summary.Requests < (ulong)Math.Max(1, options.MinRequests))
            return new CanaryVerdict(CheckOutcome.NoData,
                $"no data: {summary.Requests} requests to {name} in the last {over}, fewer than the {options.MinRequests} a check needs; is traffic reaching {split.Spec.Service}?");

        var failed = new List<string>();
        var measured = new List<string>();
        if (analysis.SuccessRate is { } rate)
        {
            measured.Add(F($"success rate {summary.SuccessRate:0.##}% (min {rate.Min:0.##}%)"));
            if (summary.SuccessRate < rate.Min)
                failed.Add(F($"success rate {summary.SuccessRate:0.##}% < {rate.Min:0.##}%"));
        }
        if (analysis.LatencyP99 is { } latency && DurationParser.TryParse(latency.Max, out var max, out _))
        {
            measured.Add(F($"p99 {summary.P99Ms:0.#} ms (max {max.TotalMilliseconds:0.#} ms)"));
            if (summary.P99Ms > max.TotalMilliseconds)
                failed.Add(F($"latency p99 {summary.P99Ms:0.#} ms > {max.TotalMilliseconds:0.#} ms"));
        }
        var seen = F($"{summary.Requests} requests to {name} in the last {over}");
        return failed.Count > 0
            ? new CanaryVerdict(CheckOutcome.Fail, $"failed: {string.Join(", ", failed)} ({seen})")
            : new CanaryVerdict(CheckOutcome.Pass, $"passed: {(measured.Count > 0 ? string.Join(", ", measured) : "no checks configured")} ({seen})");
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
