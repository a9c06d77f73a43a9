using FedMesh.Core.Canary;
using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Telemetry.Protocol;
using FedMesh.MirrorController.Canary;
using FedMesh.MirrorController.Telemetry;
using FedMesh.MirrorController.Tests.Support;

namespace FedMesh.MirrorController.Tests.Canary;

/// <summary>The rollout state machine on a manual clock, fed through the real stats aggregator.</summary>
public sealed class CanaryRolloutTests
{
    private readonly ManualClock _clock = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000));
    private readonly StatsAggregator _stats;
    private readonly CanaryRollout _rollout;
    private readonly DateTimeOffset _started;

    public CanaryRolloutTests()
    {
        _stats = new StatsAggregator(_clock);
        var options = new CanaryOptions { MinRequests = 10, HistoryLimit = 5 };
        _rollout = new CanaryRollout(new CanaryAnalyzer(_stats, options), options, _clock);
        _started = _clock.Now;
    }

    private static TrafficSplit Split(int step = 25, int max = 50, int threshold = 2) => new()
    {
        Metadata = { Name = "web", Namespace = "default" },
        Spec = new TrafficSplitSpec
        {
            Service = "web",
            Backends = [new SplitBackend { Service = "web", Weight = 100 }, new SplitBackend { Service = "web", Cluster = "west", Weight = 0 }],
            Analysis = new CanaryAnalysis
            {
                StepWeight = step, MaxWeight = max, Interval = "10s", Threshold = threshold,
                SuccessRate = new SuccessRateCheck { Min = 99 }, LatencyP99 = new LatencyCheck { Max = "300ms" },
            },
        },
    };

    /// <summary>One report a second for <paramref name="seconds"/> s: the canary (web-west) answers as given.</summary>
    private void Traffic(int seconds, ulong perSecond, ulong failures = 0, double ms = 5)
    {
        for (var i = 0; i < seconds; i++)
        {
            _clock.Now += TimeSpan.FromSeconds(1);
            var s = new RequestStats { Namespace = "default", Service = "web", Backend = "web-west", SourceCluster = "east", DestinationCluster = "west", Requests = perSecond, Failures = failures };
            for (var b = 0; b < LatencyBuckets.Count; b++) s.LatencyBuckets.Add(b == LatencyBuckets.IndexOf(ms) ? perSecond : 0);
            _stats.Add(NodeKind.Proxy, [s]);
        }
    }

    private TrafficSplit Advance(TrafficSplit split)
    {
        var next = _rollout.Next(split, "east", _started);
        Assert.NotNull(next);
        split.Status = next;
        return split;
    }

    private static int CanaryWeight(TrafficSplit split) => SplitWeights.CanaryWeight(split.Status!.Weights!);

    [Fact]
    public void Next_NewSplit_StartsProgressingWithOneStep()
    {
        var split = Advance(Split(step: 10));
        Assert.Equal(CanaryPhases.Progressing, split.Status!.Phase);
        Assert.Equal([90, 10], split.Status.Weights!.Select(w => w.Weight));
        Assert.Contains("started: web@west -> 10%", split.Status.History![^1]);
    }

    [Fact]
    public void Next_BeforeTheIntervalHasPassed_NothingIsDue()
    {
        var split = Advance(Split());
        Traffic(9, 50);
        Assert.Null(_rollout.Next(split, "east", _started));
    }

    [Fact]
    public void Next_HealthyCanaryEveryInterval_StepsToMaxThenPromotes()
    {
        var split = Advance(Split(step: 25, max: 50));
        Assert.Equal(25, CanaryWeight(split));
        Traffic(10, 50);
        Assert.Equal(50, CanaryWeight(Advance(split)));
        Assert.Equal(CanaryPhases.Progressing, split.Status!.Phase);
        Traffic(10, 50);
        Advance(split);
        Assert.Equal(CanaryPhases.Promoted, split.Status!.Phase);
        Assert.Equal([0, 100], split.Status.Weights!.Select(w => w.Weight));
        Assert.Contains("passed: success rate 100% (min 99%)", split.Status.LastAnalysis);
        Assert.Null(_rollout.Next(split, "east", _started));
    }

    [Fact]
    public void Next_CanaryFailingTenPercent_HoldsThenRollsBackAtThresholdNamingTheCheck()
    {
        var split = Advance(Split(threshold: 2));
        Traffic(10, 50, failures: 5);
        Advance(split);
        Assert.Equal(CanaryPhases.Progressing, split.Status!.Phase);
        Assert.Equal(25, CanaryWeight(split));
        Assert.Equal(1, split.Status.FailedChecks);
        Traffic(10, 50, failures: 5);
        Advance(split);
        Assert.Equal(CanaryPhases.RolledBack, split.Status!.Phase);
        Assert.Equal([100, 0], split.Status.Weights!.Select(w => w.Weight));
        Assert.Contains("failed: success rate 90% < 99%", split.Status.LastAnalysis);
        Assert.Equal("False", split.Status.Conditions![0].Status);
    }

    [Fact]
    public void Next_SlowCanary_FailsTheLatencyCheck()
    {
        var split = Advance(Split(threshold: 1));
        Traffic(10, 50, ms: 900);
        Advance(split);
        Assert.Equal(CanaryPhases.RolledBack, split.Status!.Phase);
        Assert.Contains("latency p99", split.Status.LastAnalysis);
    }

    [Fact]
    public void Next_TooFewRequests_IsNoDataAndCountsAsFailed()
    {
        var split = Advance(Split(threshold: 3));
        Traffic(10, 0);
        Advance(split);
        Assert.Equal(25, CanaryWeight(split));
        Assert.Equal(1, split.Status!.FailedChecks);
        Assert.Contains("no data: 0 requests to web@west", split.Status.LastAnalysis);
    }

    [Fact]
    public void Next_AfterControllerRestart_WaitsAnIntervalThenResumesFromStoredWeights()
    {
        var split = Advance(Split(step: 25, max: 75));
        Traffic(10, 50);
        Advance(split);
        Assert.Equal(50, CanaryWeight(split));

        Traffic(20, 50);
        var restartedAt = _clock.Now;
        Assert.Null(_rollout.Next(split, "east", restartedAt));
        Traffic(10, 50);
        var next = _rollout.Next(split, "east", restartedAt);
        Assert.Equal(CanaryPhases.Progressing, next!.Phase);
        Assert.Equal(75, SplitWeights.CanaryWeight(next.Weights!));
    }

    [Fact]
    public void Next_HistoryIsBounded()
    {
        var split = Advance(Split(step: 1, max: 100, threshold: 100));
        for (var i = 0; i < 8; i++) { Traffic(10, 50); Advance(split); }
        Assert.Equal(5, split.Status!.History!.Count);
        Assert.Contains("-> 9%", split.Status.History[^1]);
    }

    [Fact]
    public void Next_WithoutAnalysisOrFinished_DoesNothing()
    {
        var manual = Split();
        manual.Spec.Analysis = null;
        Assert.Null(_rollout.Next(manual, "east", _started));
        var done = Split();
        done.Status = new TrafficSplitStatus { Phase = CanaryPhases.RolledBack };
        Assert.Null(_rollout.Next(done, "east", _started));
    }
}
