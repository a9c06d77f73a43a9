using System.Diagnostics.Metrics;
using FedMesh.Core.Telemetry;

namespace FedMesh.Core.Tests.Telemetry;

public sealed class MeshMetricsTests
{
    private static readonly RequestKey Key = new("default", "web", "web-west", "east", "west");

    [Fact]
    public void Record_WithListener_HistogramGetsSecondsAndStatusClassTags_CounterObservedFromCell()
    {
        var recorder = new RequestStatsRecorder();
        using var published = MeshMetrics.Publish(recorder);
        var durations = new List<(double Value, string? StatusClass, string? Backend)>();
        var counts = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Meter.Name == MeshMetrics.MeterName) l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            if (Tag(tags, MeshMetrics.ServiceTag) == "web") durations.Add((value, Tag(tags, MeshMetrics.StatusClassTag), Tag(tags, MeshMetrics.BackendTag)));
        });
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (Tag(tags, MeshMetrics.ServiceTag) == "web") counts[Tag(tags, MeshMetrics.StatusClassTag)!] = value;
        });
        listener.Start();

        var cell = recorder.Cell(Key);
        cell.Record(200, 2.5);
        cell.Record(404, 1);
        cell.Record(503, 40);
        cell.Record(0, 5);
        listener.RecordObservableInstruments();

        Assert.Equal([(0.0025, "2xx", "web-west"), (0.001, "4xx", "web-west"), (0.04, "5xx", "web-west"), (0.005, "5xx", "web-west")], durations);
        Assert.Equal(new Dictionary<string, long> { ["2xx"] = 1, ["4xx"] = 1, ["5xx"] = 2 }, counts);
        var drained = Assert.Single(recorder.Drain());
        Assert.Equal(4UL, drained.Requests);
        Assert.Equal(2UL, drained.Failures);
    }

    [Fact]
    public void BoundsSeconds_AreTheStatsPipelineBucketsInSeconds()
    {
        Assert.Equal(LatencyBuckets.BoundsMs.Length, MeshMetrics.BoundsSeconds.Length);
        Assert.Equal(0.000025, MeshMetrics.BoundsSeconds[0], 12);
        Assert.Equal(30, MeshMetrics.BoundsSeconds[^1], 12);
    }

    private static string? Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string name)
    {
        foreach (var t in tags) if (t.Key == name) return t.Value as string;
        return null;
    }
}
