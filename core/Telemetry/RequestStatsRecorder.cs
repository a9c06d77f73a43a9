using System.Collections.Concurrent;
using FedMesh.Core.Telemetry.Protocol;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// Every <see cref="RequestStatsCell"/> of one process. Cells are created once per key and kept,
/// so the hot path holds on to its cell; <see cref="Drain"/> turns the counters' growth since the
/// previous call into report entries, and <see cref="WhenCountedAsync"/> waits until there is some, so
/// that the reporter of an idle process sleeps instead of ticking.
/// </summary>
public sealed class RequestStatsRecorder
{
    private readonly ConcurrentDictionary<RequestKey, RequestStatsCell> _cells = new();
    private readonly Dictionary<RequestKey, Sent> _sent = new();
    private readonly Lock _drainLock = new();
    private volatile bool _counted; // a request was counted since the last drain began
    private TaskCompletionSource? _waiter;

    /// <summary>The cell for <paramref name="key"/>, created on first use.</summary>
    public RequestStatsCell Cell(in RequestKey key) =>
        _cells.TryGetValue(key, out var cell) ? cell : _cells.GetOrAdd(key, static (k, owner) => new RequestStatsCell(k, owner), this);

    /// <summary>
    /// Completes once a request has been counted since the last <see cref="Drain"/> began (at once if one has). A
    /// volatile read per request on the hot path; only the first count after a drain goes further.
    /// </summary>
    public Task WhenCountedAsync(CancellationToken cancellationToken)
    {
        if (_counted)
            return Task.CompletedTask;
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = Interlocked.CompareExchange(ref _waiter, waiter, null) ?? waiter;
        if (_counted) // counted between the first look and the waiter being set
            current.TrySetResult();
        return current.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Called by a cell when it counts a request while nothing was counted since the last drain.</summary>
    internal void Counted()
    {
        _counted = true;
        Interlocked.Exchange(ref _waiter, null)?.TrySetResult();
    }

    internal bool CountedSinceDrain => _counted;

    /// <summary>Every cell (for metrics exporters).</summary>
    public ICollection<RequestStatsCell> Cells => _cells.Values;

    /// <summary>What changed since the previous drain; keys without new requests are left out.</summary>
    public List<RequestStats> Drain()
    {
        lock (_drainLock)
        {
            // Before the counters are read: a request counted from here on is either in this drain or sets it again.
            _counted = false;
            Interlocked.MemoryBarrier();
            var result = new List<RequestStats>();
            foreach (var cell in _cells.Values)
            {
                _sent.TryGetValue(cell.Key, out var sent);
                sent ??= new Sent();
                var requests = cell.Requests;
                if (requests == sent.Requests) continue;
                var stats = new RequestStats
                {
                    Namespace = cell.Key.Namespace,
                    Service = cell.Key.Service,
                    Backend = cell.Key.Backend,
                    SourceCluster = cell.Key.SourceCluster,
                    DestinationCluster = cell.Key.DestinationCluster,
                    Requests = (ulong)(requests - sent.Requests),
                };
                var failures = cell.Failures;
                stats.Failures = (ulong)Math.Max(0, failures - sent.Failures);
                var sum = cell.SumMicros;
                stats.LatencySumMs = (sum - sent.SumMicros) / 1000.0;
                for (var i = 0; i < LatencyBuckets.Count; i++)
                {
                    var b = cell.Bucket(i);
                    stats.LatencyBuckets.Add((ulong)Math.Max(0, b - sent.Buckets[i]));
                    sent.Buckets[i] = b;
                }
                sent.Requests = requests;
                sent.Failures = failures;
                sent.SumMicros = sum;
                _sent[cell.Key] = sent;
                result.Add(stats);
            }
            return result;
        }
    }

    private sealed class Sent
    {
        public long Requests, Failures, SumMicros;
        public readonly long[] Buckets = new long[LatencyBuckets.Count];
    }
}
