using System.Diagnostics.Metrics;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// Monotonic counters for one <see cref="RequestKey"/>: per status class, the requests, their latency histogram and
/// its sum. Recording is three interlocked increments and never allocates; the reporter reads the counters and sends
/// what changed since last time, and the admin port's <c>/metrics</c> renders the duration histogram from them
/// (<see cref="DurationExposition"/>), so a scrape, not each request, pays for the metrics' labels. The OpenTelemetry
/// duration histogram is recorded too, with tag arrays built once per cell, only while something listens to it (OTLP
/// export: <see cref="TelemetryHost"/>).
/// </summary>
public sealed class RequestStatsCell
{
    private readonly long[] _buckets = new long[StatusClass.Count * LatencyBuckets.Count]; // class-major
    private readonly long[] _statusClasses = new long[StatusClass.Count];
    private readonly long[] _sumMicros = new long[StatusClass.Count];
    private readonly KeyValuePair<string, object?>[][] _tags;
    private readonly RequestStatsRecorder _owner;

    internal RequestStatsCell(RequestKey key, RequestStatsRecorder owner)
    {
        Key = key;
        _owner = owner;
        Created = DateTimeOffset.UtcNow;
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

    /// <summary>When the cell began counting (OpenMetrics' <c>_created</c>).</summary>
    public DateTimeOffset Created { get; }

    /// <summary>Counts one request by the status its caller saw (0 or ≥ 500: failed) and how long it took.</summary>
    public void Record(int statusCode, double milliseconds)
    {
        var statusClass = StatusClass.IndexOf(statusCode);
        Interlocked.Increment(ref _statusClasses[statusClass]);
        Interlocked.Add(ref _sumMicros[statusClass], (long)(milliseconds * 1000));
        Interlocked.Increment(ref _buckets[statusClass * LatencyBuckets.Count + LatencyBuckets.IndexOf(milliseconds)]);
        Histogram<double> duration = MeshMetrics.RequestDuration;
        if (duration.Enabled) duration.Record(milliseconds / 1000, _tags[statusClass]);
        if (!_owner.CountedSinceDrain)
            _owner.Counted();
    }

    /// <summary>Counts one request by outcome only (a failure counts as 5xx, a success as 2xx).</summary>
    public void Record(bool failed, double milliseconds) => Record(failed ? 500 : 200, milliseconds);

    internal long Requests
    {
        get
        {
            long n = 0;
            for (var c = 0; c < StatusClass.Count; c++) n += StatusClassCount(c);
            return n;
        }
    }

    internal long Failures => StatusClassCount(StatusClass.Count - 1);

    internal long SumMicros
    {
        get
        {
            long sum = 0;
            for (var c = 0; c < StatusClass.Count; c++) sum += SumMicrosOf(c);
            return sum;
        }
    }

    /// <summary>Requests of every status class in latency bucket <paramref name="i"/>.</summary>
    internal long Bucket(int i)
    {
        long n = 0;
        for (var c = 0; c < StatusClass.Count; c++) n += BucketOf(c, i);
        return n;
    }

    internal long StatusClassCount(int statusClass) => Interlocked.Read(ref _statusClasses[statusClass]);
    internal long SumMicrosOf(int statusClass) => Interlocked.Read(ref _sumMicros[statusClass]);
    internal long BucketOf(int statusClass, int i) => Interlocked.Read(ref _buckets[statusClass * LatencyBuckets.Count + i]);
    internal KeyValuePair<string, object?>[] Tags(int statusClass) => _tags[statusClass];
}
