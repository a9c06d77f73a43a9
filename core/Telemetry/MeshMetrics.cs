using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// The request instruments every proxy and gateway publishes. Both are read from the cells of the stats pipeline
/// (<see cref="RequestStatsCell.Record(int, double)"/>) when metrics are collected, so they add nothing per request to
/// the cells' own counting: the request counter is observed from the cells' counters, and <c>/metrics</c> renders the
/// duration histogram from their buckets (<see cref="DurationExposition"/>). The duration histogram is recorded through
/// OpenTelemetry as well only while a meter provider listens to it (OTLP export: <see cref="TelemetryHost"/>).
/// </summary>
public static class MeshMetrics
{
    /// <summary>Meter of the data plane (proxies and gateways).</summary>
    public const string MeterName = "FedMesh";

    public const string SourceClusterTag = "source_cluster";
    public const string DestinationClusterTag = "destination_cluster";
    public const string NamespaceTag = "namespace";
    public const string ServiceTag = "service";
    public const string BackendTag = "backend";
    public const string StatusClassTag = "status_class";

    /// <summary>Histogram bounds in seconds (Prometheus base unit), the same buckets as <see cref="LatencyBuckets.BoundsMs"/>.</summary>
    public static readonly double[] BoundsSeconds = Array.ConvertAll(LatencyBuckets.BoundsMs, ms => ms / 1000);

    public const string MeterVersion = "1.0";

    private static readonly Meter Meter = new(MeterName, MeterVersion);
    private static readonly ConcurrentDictionary<RequestStatsRecorder, byte> Recorders = new();

    /// <summary><c>fedmesh_request_duration_seconds</c>: from handing a request to the forwarder until its response was copied back.</summary>
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram(
        "fedmesh.request.duration", "s", "Duration of requests forwarded by the proxy or gateway",
        tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = BoundsSeconds });

    static MeshMetrics()
    {
        Meter.CreateObservableCounter("fedmesh.requests", ObserveRequests, "{request}",
            "Requests forwarded by the proxy or gateway");
        Meter.CreateObservableCounter("fedmesh.busy_polls", ObserveBusyPolls, "{window}",
            "Busy-poll windows of the socket loops (FEDMESH_BUSY_POLL_US): an event came (hit), or the window ended with nothing (miss)");
    }

    public const string OutcomeTag = "outcome";

    /// <summary><c>fedmesh_busy_polls_total</c> by outcome; nothing while polling is off and never was on.</summary>
    private static IEnumerable<Measurement<long>> ObserveBusyPolls()
    {
        var (hits, misses) = BusyPolling.Counts();
        if (BusyPolling.Microseconds == 0 && hits == 0 && misses == 0)
            yield break;
        yield return new Measurement<long>(hits, new KeyValuePair<string, object?>(OutcomeTag, "hit"));
        yield return new Measurement<long>(misses, new KeyValuePair<string, object?>(OutcomeTag, "miss"));
    }

    /// <summary>Publishes <paramref name="recorder"/>'s cells through <c>fedmesh_requests_total</c> until disposed.</summary>
    public static IDisposable Publish(RequestStatsRecorder recorder)
    {
        Recorders.TryAdd(recorder, 0);
        return new Registration(recorder);
    }

    /// <summary>Every published recorder's cells.</summary>
    internal static IEnumerable<RequestStatsCell> PublishedCells() => Recorders.Keys.SelectMany(r => r.Cells);

    private static IEnumerable<Measurement<long>> ObserveRequests()
    {
        foreach (var cell in PublishedCells())
        {
            for (var i = 0; i < StatusClass.Count; i++)
            {
                var count = cell.StatusClassCount(i);
                if (count > 0) yield return new Measurement<long>(count, cell.Tags(i).AsSpan());
            }
        }
    }

    private sealed class Registration(RequestStatsRecorder recorder) : IDisposable
    {
        public void Dispose() => Recorders.TryRemove(recorder, out _);
    }
}
