namespace FedMesh.Core.Telemetry;

/// <summary>
/// Monotonic counters for one <see cref="RequestKey"/>. Recording is a few interlocked increments
/// and never allocates; the reporter reads the counters and sends what changed since last time.
/// </summary>
public sealed class RequestStatsCell
{
    private readonly long[] _buckets = new long[LatencyBuckets.Count];
    private long _requests, _failures, _sumMicros;

    internal RequestStatsCell(RequestKey key) => Key = key;

    public RequestKey Key { get; }

    /// <summary>Counts one request: its outcome and how long it took.</summary>
    public void Record(bool failed, double milliseconds)
    {
        Interlocked.Increment(ref _requests);
        if (failed) Interlocked.Increment(ref _failures);
        Interlocked.Add(ref _sumMicros, (long)(milliseconds * 1000));
        Interlocked.Increment(ref _buckets[LatencyBuckets.IndexOf(milliseconds)]);
    }

    internal long Requests => Interlocked.Read(ref _requests);
    internal long Failures => Interlocked.Read(ref _failures);
    internal long SumMicros => Interlocked.Read(ref _sumMicros);
    internal long Bucket(int i) => Interlocked.Read(ref _buckets[i]);
}
