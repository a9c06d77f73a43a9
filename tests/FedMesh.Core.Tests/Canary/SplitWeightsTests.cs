using FedMesh.Core.Canary;
using FedMesh.Core.Resources;

namespace FedMesh.Core.Tests.Canary;

public sealed class SplitWeightsTests
{
    private static SplitBackend B(string service, string? cluster, int weight) => new() { Service = service, Cluster = cluster, Weight = weight };

    [Fact]
    public void Shift_NewCanary_RestStaysWithCurrentBackendsProportionally()
    {
        var result = SplitWeights.Shift([B("web", null, 60), B("web", "north", 40)], B("web", "west", 0), 20, "east");
        Assert.Equal(["web@east=48", "web@north=32", "web@west=20"], result.Select(b => $"{SplitWeights.Describe(b, "east")}={b.Weight}"));
    }

    [Fact]
    public void Shift_ExistingBackendNamedWithItsCluster_IsMovedLastNotDuplicated()
    {
        var result = SplitWeights.Shift([B("web", "west", 30), B("web", null, 70)], B("web", "east", 0), 50, "east");
        Assert.Equal(["web@west=50", "web@east=50"], result.Select(b => $"{SplitWeights.Describe(b, "east")}={b.Weight}"));
    }

    [Fact]
    public void Shift_OthersHaveNoWeight_ShareTheRestEvenlySummingTo100()
    {
        var result = SplitWeights.Shift([B("a", null, 0), B("b", null, 0), B("c", null, 0), B("web", "west", 100)], B("web", "west", 0), 0, "east");
        Assert.Equal([34, 33, 33, 0], result.Select(b => b.Weight));
    }

    [Fact]
    public void Shift_OnlyBackendBelow100_ThrowsSayingWhy()
    {
        var e = Assert.Throws<InvalidOperationException>(() => SplitWeights.Shift([B("web", "west", 100)], B("web", "west", 0), 20, "east"));
        Assert.Contains("only backend", e.Message);
    }

    [Fact]
    public void Effective_WithAnalysisAndStatusWeights_UsesStatus()
    {
        var split = new TrafficSplit { Spec = { Backends = [B("web", null, 100), B("web", "west", 0)], Analysis = new CanaryAnalysis() } };
        Assert.Same(split.Spec.Backends, SplitWeights.Effective(split));
        split.Status = new TrafficSplitStatus { Weights = [B("web", null, 75), B("web", "west", 25)] };
        Assert.Same(split.Status.Weights, SplitWeights.Effective(split));
        split.Spec.Analysis = null;
        Assert.Same(split.Spec.Backends, SplitWeights.Effective(split));
    }
}
