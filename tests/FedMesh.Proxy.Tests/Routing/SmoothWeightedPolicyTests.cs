using FedMesh.Proxy.LoadBalancing;
using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.Tests.Routing;

public sealed class SmoothWeightedPolicyTests
{
    private static BackendSet Backend(string name) => new(name, "default", [], new RoundRobinBalancer());

    [Fact]
    public void Choose_FiveToOne_InterleavesEvenly()
    {
        var a = Backend("a");
        var b = Backend("b");
        var policy = new SmoothWeightedPolicy([a, b], [5, 1]);

        var picks = new string[12];
        for (var i = 0; i < picks.Length; i++)
            picks[i] = policy.Choose().Service;

        Assert.Equal("a a a b a a a a a b a a".Split(' '), picks);
    }

    [Fact]
    public void Choose_ManyThreads_KeepsExactProportions()
    {
        var a = Backend("a");
        var b = Backend("b");
        var c = Backend("c");
        var policy = new SmoothWeightedPolicy([a, b, c], [1, 2, 7]);
        var counts = new int[3];

        Parallel.For(0, 10_000, _ =>
        {
            var chosen = policy.Choose();
            Interlocked.Increment(ref counts[chosen == a ? 0 : chosen == b ? 1 : 2]);
        });

        Assert.Equal([1_000, 2_000, 7_000], counts);
    }

    [Fact]
    public void Create_NonPositiveWeight_Throws()
        => Assert.Throws<ArgumentException>(() => new SmoothWeightedPolicy([Backend("a")], [0]));
}
