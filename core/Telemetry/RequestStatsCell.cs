using System.Diagnostics.Metrics;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// Monotonic counters for one <see cref="RequestKey"/>. Recording is a few interlocked increments
/// and never allocates; the reporter reads the counters and sends what changed since last time.
/// The same call feeds the OpenTelemetry duration histogram (with tag arrays built once per cell),
/// and <see cref="MeshMetrics"/> reads the per-status-class counters when metrics are collected.
/// </summary>
public sealed class RequestStatsCell
{
    private readonly long[] _buckets = new long[LatencyBuckets.Count];
    private readonly long[] _statusClasses = new long[StatusClass.Count];
    private readonly KeyValuePair<string, object?>[][] _tags;
    private readonly RequestStatsRecorder _owner;
    private long _requests, _failures, _sumMicros;

    internal RequestStatsCell(RequestKey key, RequestStatsRecorder owner)
    {
        Key = key;
        _owner = owner;
        _tags = new KeyValuePair<string, object?>[StatusClass.Count][];
        for (var i = 0; i < _tags.Length; i++)
        {
            _tags[i] =
            [
                new(MeshMetrics.SourceClusterTag, key.SourceCluster),
                new(MeshMetrics.DestinationClusterTag, key.DestinationCluster),
                new(MeshMetrics.NamespaceTag, key.Namespace),
                new(MeshMetrics.ServiceTag, key.Service),
                new(MeshMetrics.BackendTag, key.Backend),
                new(MeshMetrics.StatusClassTag, StatusClass.Names[i]),
            ];
        }
    }

    public RequestKey Key { get; }

    /// <summary>Counts one request by the status its caller saw (0 or ≥ 500: failed) and how long it took.</summary>
    public void Record(int statusCode, double milliseconds)
    {
        var statusClass = StatusClass.IndexOf(statusCode);
        Interlocked.Increment(ref _requests);
        if (statusClass == StatusClass.Count - 1) Interlocked.Increment(ref _failures);
        Interlocked.Increment(ref _statusClasses[statusClass]);
        Interlocked.Add(ref _sumMicros, (long)(milliseconds * 1000));
        Interlocked.Increment(ref _buckets[LatencyBuckets.IndexOf(milliseconds)]);
        Histogram<double> duration = MeshMetrics.RequestDuration;
        if (duration.Enabled) duration.Record(milliseconds / 1000, _tags[statusClass]);
        if (!_owner.CountedSinceDrain)
            _owner.Counted();
    }

    /// <summary>Counts one request by outcome only (a failure counts as 5xx, a success as 2xx).</summary>
    public void Record(bool failed, double milliseconds) => Record(failed ? 500 : 200, milliseconds);

    internal long Requests => Interlocked.Read(ref _requests);
    internal long Failures => Interlocked.Read(ref _failures);
    internal long SumMicros => Interlocked.Read(ref _sumMicros);
    internal long Bucket(int i) => Interlocked.Read(ref _buckets[i]);
    internal long StatusClassCount(int i) => Interlocked.Read(ref _statusClasses[i]);
    internal KeyValuePair<string, object?>[] Tags(int statusClass) => _tags[statusClass];
}
