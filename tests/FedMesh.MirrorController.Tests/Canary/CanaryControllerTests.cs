using FedMesh.Core.Canary;
using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Telemetry.Protocol;
using FedMesh.MirrorController.Canary;
using FedMesh.MirrorController.Hosting;
using FedMesh.MirrorController.Telemetry;
using FedMesh.MirrorController.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.MirrorController.Tests.Canary;

/// <summary>
/// The canary controller over a store in memory: it advances a split only when a step is due, says when the next one
/// is, never writes from a stale copy, and reads the store only when something changed (no polling).
/// </summary>
public sealed class CanaryControllerTests
{
    private readonly InMemoryClusterStore _store = new("east");
    private readonly StatsAggregator _stats;
    private readonly CanaryOptions _options = new() { MinRequests = 10 };

    public CanaryControllerTests() => _stats = new StatsAggregator(TimeProvider.System);

    private CanaryController Controller(TimeProvider time) =>
        new(_store, new CanaryRollout(new CanaryAnalyzer(_stats, _options), _options, time), _options, new MirrorControllerOptions(), time,
            NullLogger<CanaryController>.Instance);

    private static TrafficSplit Split(string interval = "10s", bool analysis = true) => new()
    {
        Metadata = { Name = "web", Namespace = "default" },
        Spec = new TrafficSplitSpec
        {
            Service = "web",
            Backends = [new SplitBackend { Service = "web", Weight = 100 }, new SplitBackend { Service = "web", Cluster = "west", Weight = 0 }],
            Analysis = analysis
                ? new CanaryAnalysis { StepWeight = 20, MaxWeight = 60, Interval = interval, Threshold = 3, SuccessRate = new SuccessRateCheck { Min = 99 } }
                : null,
        },
    };

    [Fact]
    public async Task Tick_NoRolloutInProgress_WritesNothingAndWaitsForAChange()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        await _store.CreateAsync(Split(analysis: false));
        var writes = _store.Writes;

        var wait = await Controller(clock).TickAsync(await _store.ListAsync<TrafficSplit>(), clock.Now, CancellationToken.None);

        Assert.Null(wait);
        Assert.Equal(writes, _store.Writes);
    }

    [Fact]
    public async Task Tick_NewRollout_StartsItAndWaitsOneIntervalThenNothingFromTheStaleCopy()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
        var controller = Controller(clock);
        var since = clock.Now;
        var created = await _store.CreateAsync(Split(interval: "10s"));

        var wait = await controller.TickAsync([created], since, CancellationToken.None);

        var started = await _store.GetAsync<TrafficSplit>("default", "web");
        Assert.Equal(CanaryPhases.Progressing, started!.Status!.Phase);
        Assert.Equal([80, 20], started.Status.Weights!.Select(w => w.Weight));
        Assert.Equal(TimeSpan.FromSeconds(10), wait);

        // The watched copy is still the one without a status (the watch has not delivered the write yet): the
        // controller reads the stored split, finds nothing due and writes nothing.
        var writes = _store.Writes;
        clock.Now += TimeSpan.FromSeconds(1);
        wait = await controller.TickAsync([created], since, CancellationToken.None);
        Assert.Equal(writes, _store.Writes);
        Assert.Equal(TimeSpan.FromSeconds(9), wait);
    }

    [Fact]
    public async Task Tick_StepDue_RaisesTheCanaryOnItsInterval()
    {
        var clock = new ManualClock(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.ToUnixTimeSeconds())); // whole ms, as statuses keep
        var controller = Controller(clock);
        var since = clock.Now;
        await controller.TickAsync([await _store.CreateAsync(Split(interval: "10s"))], since, CancellationToken.None);
        var started = (await _store.GetAsync<TrafficSplit>("default", "web"))!;

        clock.Now += TimeSpan.FromSeconds(9.9);
        Assert.Equal(TimeSpan.FromSeconds(0.1), await controller.TickAsync([started], since, CancellationToken.None));
        Assert.Equal(20, SplitWeights.CanaryWeight(started.Status!.Weights!));

        // A healthy canary (the aggregator keeps the current seconds on the real clock the analyzer reads).
        var healthy = new RequestStats { Namespace = "default", Service = "web", Backend = "web-west", SourceCluster = "east", DestinationCluster = "west", Requests = 50 };
        for (var b = 0; b < LatencyBuckets.Count; b++) healthy.LatencyBuckets.Add(b == LatencyBuckets.IndexOf(5) ? 50ul : 0);
        _stats.Add(NodeKind.Proxy, [healthy]);
        clock.Now += TimeSpan.FromSeconds(0.1);
        var wait = await controller.TickAsync([started], since, CancellationToken.None);

        var stepped = (await _store.GetAsync<TrafficSplit>("default", "web"))!;
        Assert.Equal(40, SplitWeights.CanaryWeight(stepped.Status!.Weights!));
        Assert.Equal(TimeSpan.FromSeconds(10), wait);
    }

    [Fact]
    public async Task Run_IdleStore_IsNotPolled_AndANewRolloutStartsFromTheWatch()
    {
        await _store.CreateAsync(Split(analysis: false));
        using var controller = Controller(TimeProvider.System);
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await controller.StartAsync(stop.Token);
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), stop.Token);
            Assert.Equal(0, _store.Reads); // the informer's list-then-watch only

            var split = (await _store.GetAsync<TrafficSplit>("default", "web"))!;
            split.Spec.Analysis = Split().Spec.Analysis;
            await _store.UpdateAsync(split);
            while ((await _store.GetAsync<TrafficSplit>("default", "web"))!.Status?.Phase != CanaryPhases.Progressing)
                await Task.Delay(TimeSpan.FromMilliseconds(10), stop.Token);

            // Started; the next check is 10 s away, so nothing reads the store meanwhile.
            await Task.Delay(TimeSpan.FromMilliseconds(200), stop.Token);
            var reads = _store.Reads;
            await Task.Delay(TimeSpan.FromMilliseconds(500), stop.Token);
            Assert.Equal(reads, _store.Reads);
        }
        finally
        {
            await controller.StopAsync(CancellationToken.None);
        }
    }
}
