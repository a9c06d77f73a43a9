using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Telemetry.Protocol;
using FedMesh.MirrorController.Failover;
using FedMesh.MirrorController.Telemetry;
using FedMesh.MirrorController.Tests.Support;

namespace FedMesh.MirrorController.Tests.Failover;

public sealed class SloTriggerTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);

    private static RequestStats Report(string backend, ulong requests, ulong failures, double ms)
    {
        var s = new RequestStats { Namespace = "default", Service = "echo", Backend = backend, SourceCluster = "east", DestinationCluster = "east", Requests = requests, Failures = failures };
        for (var i = 0; i < LatencyBuckets.Count; i++) s.LatencyBuckets.Add(i == LatencyBuckets.IndexOf(ms) ? requests : 0);
        return s;
    }

    [Fact]
    public void Breach_ErrorRateOverMax_NamesTheMeasuredRate()
    {
        var stats = new StatsAggregator(new ManualClock(T0));
        stats.Add(NodeKind.Proxy, [Report("echo", 100, 12, 1)]);
        var slo = SloTrigger.From(new FailoverTrigger { MaxErrorRate = 5, Window = "10s" })!;
        var breach = slo.Breach(stats, "default", "echo", "echo");
        Assert.NotNull(breach);
        Assert.Contains("error rate 12%", breach);
        Assert.Null(slo.Breach(stats, "default", "echo", "echo-west"));
    }

    [Fact]
    public void Breach_P99OverMaxButTooFewRequests_HasNoVerdict()
    {
        var stats = new StatsAggregator(new ManualClock(T0));
        stats.Add(NodeKind.Proxy, [Report("echo", SloTrigger.MinRequests - 1, 0, 400)]);
        var slo = SloTrigger.From(new FailoverTrigger { MaxLatencyP99 = "250ms", Window = "10s" })!;
        Assert.Null(slo.Breach(stats, "default", "echo", "echo"));
        stats.Add(NodeKind.Proxy, [Report("echo", 20, 0, 400)]);
        Assert.Contains("maxLatencyP99 250ms", slo.Breach(stats, "default", "echo", "echo"));
    }

    [Fact]
    public void From_NoSloFields_IsNull() =>
        Assert.Null(SloTrigger.From(new FailoverTrigger { MinHealthyPercent = 50 }));

    [Fact]
    public void Evaluate_ActiveTargetBreachesSlo_MovesWithTheReason_AndFailsBackAfterHysteresis()
    {
        var machine = new FailoverStateMachine(["east", "west"], 50, TimeSpan.FromSeconds(10));
        machine.Evaluate([100, 100], T0);
        Assert.True(machine.Evaluate([100, 100], T0.AddSeconds(1), ["error rate 12% over 10s exceeds maxErrorRate 5%", null]));
        Assert.Equal(1, machine.Active);
        Assert.StartsWith("SloBreach: east error rate 12%", machine.Reason);
        Assert.False(machine.Evaluate([100, 100], T0.AddSeconds(5), [null, null]));
        Assert.True(machine.Evaluate([100, 100], T0.AddSeconds(15), [null, null]));
        Assert.Equal(0, machine.Active);
    }
}
