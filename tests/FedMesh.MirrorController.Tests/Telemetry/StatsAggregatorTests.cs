using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Telemetry.Protocol;
using FedMesh.MirrorController.Telemetry;
using FedMesh.MirrorController.Tests.Support;

namespace FedMesh.MirrorController.Tests.Telemetry;

public sealed class StatsAggregatorTests
{
    private static RequestStats Stats(string backend, ulong requests, ulong failures, double ms)
    {
        var s = new RequestStats { Namespace = "default", Service = "web", Backend = backend, SourceCluster = "east", DestinationCluster = backend.EndsWith("-west") ? "west" : "east", Requests = requests, Failures = failures };
        for (var i = 0; i < LatencyBuckets.Count; i++) s.LatencyBuckets.Add(i == LatencyBuckets.IndexOf(ms) ? requests : 0);
        return s;
    }

    [Fact]
    public void Summarize_WithinWindow_MergesReportsAndComputesRates()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        var aggregator = new StatsAggregator(clock);
        aggregator.Add(NodeKind.Proxy, [Stats("web-v2-west", 90, 9, 52)]);
        clock.Now += TimeSpan.FromSeconds(1);
        aggregator.Add(NodeKind.Proxy, [Stats("web-v2-west", 10, 1, 52), Stats("web", 400, 0, 0.4)]);

        var canary = aggregator.Summarize(TimeSpan.FromSeconds(10), "default", "web", "web-v2-west");
        Assert.Equal(100UL, canary.Requests);
        Assert.Equal(10UL, canary.Failures);
        Assert.Equal(90, canary.SuccessRate, 3);
        Assert.InRange(canary.P50Ms, 50, 55);
        Assert.Equal(2, aggregator.Query(TimeSpan.FromSeconds(10)).Count);
    }

    [Fact]
    public void Query_OutsideWindow_ForgetsOldSecondsAndKeepsReportersApart()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        var aggregator = new StatsAggregator(clock);
        aggregator.Add(NodeKind.Proxy, [Stats("web", 50, 0, 1)]);
        aggregator.Add(NodeKind.Gateway, [Stats("web", 7, 0, 1)]);
        clock.Now += TimeSpan.FromSeconds(30);
        aggregator.Add(NodeKind.Proxy, [Stats("web", 5, 0, 1)]);

        Assert.Equal(5UL, aggregator.Summarize(TimeSpan.FromSeconds(10), "default", "web", "web").Requests);
        Assert.Equal(55UL, aggregator.Summarize(TimeSpan.FromMinutes(1), "default", "web", "web").Requests);
        Assert.Equal(7UL, Assert.Single(aggregator.Query(TimeSpan.FromMinutes(1), reporter: NodeKind.Gateway)).Requests);
        Assert.Equal(100, aggregator.Summarize(TimeSpan.FromSeconds(10), "default", "other", "other").SuccessRate);
    }
}
