using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Telemetry.Protocol;

namespace FedMesh.MirrorController.Telemetry;

/// <summary>
/// Keeps reported request statistics in one-second slots for the last <see cref="Horizon"/>, per key
/// and reporter kind. Reports add to the slot of the second they arrive in; queries merge the slots
/// of a window. Memory is bounded: slots older than the horizon are reused, idle keys dropped.
/// </summary>
internal sealed class StatsAggregator(TimeProvider time) : IRequestStatsView
{
    public static readonly TimeSpan Horizon = TimeSpan.FromMinutes(10);
    private static readonly int SlotCount = (int)Horizon.TotalSeconds;

    private readonly Dictionary<(NodeKind Kind, RequestKey Key), Series> _series = new();
    private readonly Lock _lock = new();

    public void Add(NodeKind reporter, IEnumerable<RequestStats> stats)
    {
        var second = Second();
        lock (_lock)
        {
            foreach (var s in stats)
            {
                var key = (reporter == NodeKind.Gateway ? NodeKind.Gateway : NodeKind.Proxy,
                    new RequestKey(s.Namespace, s.Service, s.Backend, s.SourceCluster, s.DestinationCluster));
                if (!_series.TryGetValue(key, out var series))
                    _series[key] = series = new Series();
                series.Add(second, s);
            }
            if (second % 60 == 0) DropIdle(second);
        }
    }

    public IReadOnlyList<RequestSummary> Query(TimeSpan window, string? @namespace = null, string? service = null, NodeKind reporter = NodeKind.Proxy)
    {
        var kind = reporter == NodeKind.Gateway ? NodeKind.Gateway : NodeKind.Proxy;
        var (from, to) = Range(window);
        var result = new List<RequestSummary>();
        lock (_lock)
        {
            foreach (var ((k, key), series) in _series)
            {
                if (k != kind) continue;
                if (!string.IsNullOrEmpty(@namespace) && key.Namespace != @namespace) continue;
                if (!string.IsNullOrEmpty(service) && key.Service != service) continue;
                var merged = new Merged();
                series.MergeInto(merged, from, to);
                if (merged.Requests > 0) result.Add(merged.ToSummary(key, window));
            }
        }
        result.Sort((a, b) => string.CompareOrdinal(a.Namespace + a.Service + a.Backend + a.SourceCluster + a.DestinationCluster,
            b.Namespace + b.Service + b.Backend + b.SourceCluster + b.DestinationCluster));
        return result;
    }

    public RequestSummary Summarize(TimeSpan window, string @namespace, string service, string backend, string? destinationCluster = null)
    {
        var (from, to) = Range(window);
        var merged = new Merged();
        lock (_lock)
        {
            foreach (var ((k, key), series) in _series)
            {
                if (k != NodeKind.Proxy || key.Namespace != @namespace || key.Service != service || key.Backend != backend) continue;
                if (destinationCluster is not null && key.DestinationCluster != destinationCluster) continue;
                series.MergeInto(merged, from, to);
            }
        }
        return merged.ToSummary(new RequestKey(@namespace, service, backend, "", destinationCluster ?? ""), window);
    }

    private long Second() => time.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Whole seconds in the window, the current (partial) second included.</summary>
    private (long From, long To) Range(TimeSpan window)
    {
        var seconds = Math.Clamp((long)Math.Ceiling(window.TotalSeconds), 1, SlotCount - 1);
        var now = Second();
        return (now - seconds + 1, now);
    }

    private void DropIdle(long now)
    {
        List<(NodeKind, RequestKey)>? idle = null;
        foreach (var (key, series) in _series)
            if (now - series.LastSecond >= SlotCount) (idle ??= new()).Add(key);
        if (idle is not null)
            foreach (var key in idle) _series.Remove(key);
    }

    private sealed class Series
    {
        private readonly Slot[] _slots = new Slot[SlotCount];
        public long LastSecond { get; private set; }

        public void Add(long second, RequestStats s)
        {
            ref var slot = ref _slots[second % SlotCount];
            if (slot.Second != second) slot = new Slot { Second = second, Buckets = new ulong[LatencyBuckets.Count] };
            slot.Requests += s.Requests;
            slot.Failures += s.Failures;
            slot.SumMs += s.LatencySumMs;
            for (var i = 0; i < s.LatencyBuckets.Count && i < slot.Buckets!.Length; i++) slot.Buckets[i] += s.LatencyBuckets[i];
            LastSecond = second;
        }

        public void MergeInto(Merged merged, long from, long to)
        {
            foreach (var slot in _slots)
            {
                if (slot.Buckets is null || slot.Second < from || slot.Second > to) continue;
                merged.Requests += slot.Requests;
                merged.Failures += slot.Failures;
                for (var i = 0; i < slot.Buckets.Length; i++) merged.Buckets[i] += slot.Buckets[i];
            }
        }
    }

    private struct Slot
    {
        public long Second;
        public ulong Requests, Failures;
        public double SumMs;
        public ulong[]? Buckets;
    }

    private sealed class Merged
    {
        public ulong Requests, Failures;
        public readonly ulong[] Buckets = new ulong[LatencyBuckets.Count];

        public RequestSummary ToSummary(RequestKey key, TimeSpan window) => new()
        {
            Namespace = key.Namespace,
            Service = key.Service,
            Backend = key.Backend,
            SourceCluster = key.SourceCluster,
            DestinationCluster = key.DestinationCluster,
            Requests = Requests,
            Failures = Failures,
            RatePerSecond = Requests / Math.Max(1, window.TotalSeconds),
            P50Ms = LatencyBuckets.Percentile(Buckets, 0.50),
            P95Ms = LatencyBuckets.Percentile(Buckets, 0.95),
            P99Ms = LatencyBuckets.Percentile(Buckets, 0.99),
            SuccessRate = Requests == 0 ? 100 : 100.0 * (Requests - Math.Min(Failures, Requests)) / Requests,
        };
    }
}
