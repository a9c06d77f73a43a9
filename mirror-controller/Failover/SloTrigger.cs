using FedMesh.Core.Common;
using FedMesh.Core.Resources;
using FedMesh.MirrorController.Telemetry;

namespace FedMesh.MirrorController.Failover;

/// <summary>
/// A FailoverPolicy's SLO triggers: the error rate and p99 latency this cluster's proxies measured
/// for a target over the trigger's window. A target with too few requests in the window has no
/// verdict (it is judged by its endpoints' health alone), so silence never trips a trigger.
/// </summary>
internal sealed class SloTrigger
{
    /// <summary>Fewer requests than this in the window give no verdict.</summary>
    public const int MinRequests = 10;

    private readonly double? _maxErrorRate;
    private readonly TimeSpan? _maxP99;
    private readonly TimeSpan _window;

    private SloTrigger(double? maxErrorRate, TimeSpan? maxP99, TimeSpan window)
    {
        _maxErrorRate = maxErrorRate;
        _maxP99 = maxP99;
        _window = window;
    }

    /// <summary>The policy's triggers, or null when it sets none (healthy share only).</summary>
    public static SloTrigger? From(FailoverTrigger? trigger)
    {
        if (trigger is null) return null;
        TimeSpan? p99 = trigger.MaxLatencyP99 is { Length: > 0 } text && DurationParser.TryParse(text, out var d, out _) ? d : null;
        if (trigger.MaxErrorRate is null && p99 is null) return null;
        var window = DurationParser.TryParse(trigger.Window, out var w, out _) && w > TimeSpan.Zero ? w : TimeSpan.FromSeconds(30);
        return new SloTrigger(trigger.MaxErrorRate, p99, window);
    }

    /// <summary>Why <paramref name="backend"/> breaches the SLO, or null when it does not (or there is too little data).</summary>
    public string? Breach(IRequestStatsView stats, string @namespace, string service, string backend)
    {
        var summary = stats.Summarize(_window, @namespace, service, backend);
        if (summary.Requests < MinRequests) return null;
        var errorRate = 100 - summary.SuccessRate;
        if (_maxErrorRate is { } maxError && errorRate > maxError)
            return $"error rate {errorRate:0.#}% over {DurationParser.Format(_window)} exceeds maxErrorRate {maxError:0.#}%";
        if (_maxP99 is { } maxP99 && summary.P99Ms > maxP99.TotalMilliseconds)
            return $"p99 {summary.P99Ms:0.#}ms over {DurationParser.Format(_window)} exceeds maxLatencyP99 {DurationParser.Format(maxP99)}";
        return null;
    }
}
