using System.Collections.Concurrent;
using FedMesh.Core.Telemetry.Protocol;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// Every <see cref="RequestStatsCell"/> of one process. Cells are created once per key and kept,
/// so the hot path holds on to its cell; <see cref="Drain"/> turns the counters' growth since the
/// previous call into report entries.
/// </summary>
public sealed class RequestStatsRecorder
{
    private readonly ConcurrentDictionary<RequestKey, RequestStatsCell> _cells = new();
    private readonly Dictionary<RequestKey, Sent> _sent = new();
    private readonly Lock _drainLock = new();

    /// <summary>The cell for <paramref name="key"/>, created on first use.</summary>
    public RequestStatsCell Cell(in RequestKey key) =>
        _cells.TryGetValue(key, out var cell) ? cell : _cells.GetOrAdd(key, static k => new RequestStatsCell(k));

    /// <summary>Every cell (for metrics exporters).</summary>
    public ICollection<RequestStatsCell> Cells => _cells.Values;

    /// <summary>What changed since the previous drain; keys without new requests are left out.</summary>
    public List<RequestStats> Drain()
    {
        lock (_drainLock)
        {
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
