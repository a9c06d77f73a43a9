using FedMesh.Proxy.Failover;
using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.LoadBalancing;
using FedMesh.Proxy.Resilience;
using FedMesh.Proxy.Routing;
using FedMesh.Proxy.Tests.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Tests.Failover;

public sealed class FailoverBackendPolicyTests
{
    private readonly ManualTimeProvider _time = new();
    private readonly AccrualSettings _accrual;
    private readonly PeakEwmaBalancer _balancer;

    public FailoverBackendPolicyTests()
    {
        _accrual = new AccrualSettings(new ResilienceOptions().Validated(), _time, new Random(3));
        _balancer = new PeakEwmaBalancer(new Random(4), _time);
    }

    [Fact]
    public void Pick_PrimaryEjected_GoesToFallback()
    {
        var (east, west) = (Set("east"), Set("west"));
        var policy = new FailoverBackendPolicy([east, west], active: 0, minHealthyPercent: 50, maxSpillPercent: 100);
        Eject(east.Endpoints[0]);

        Assert.Equal("west", PickCluster(policy));
        Assert.Equal("west", PickCluster(policy));
    }

    [Fact]
    public void Pick_PrimaryEjectionOver_ProbationRequestGoesToPrimaryThenTrafficReturns()
    {
        var (east, west) = (Set("east"), Set("west"));
        var policy = new FailoverBackendPolicy([east, west], active: 0, minHealthyPercent: 50, maxSpillPercent: 100);
        Eject(east.Endpoints[0]);
        _time.Advance(TimeSpan.FromSeconds(1.3)); // first ejection: 1 s ± 20 %

        Assert.Equal("east", PickCluster(policy)); // the one probation request
        Assert.Equal("west", PickCluster(policy)); // the rest wait for its verdict
        east.Endpoints[0].State.Accrual.OnSuccess();
        Assert.Equal("east", PickCluster(policy));
    }

    [Fact]
    public void Pick_RetryAfterPrimaryTried_GoesToFallback()
    {
        var (east, west) = (Set("east"), Set("west"));
        var policy = new FailoverBackendPolicy([east, west], active: 0, minHealthyPercent: 50, maxSpillPercent: 100);
        var tried = default(TriedEndpoints);
        var first = policy.Pick(ref tried, out _)!;
        tried.Add(first);
        var second = policy.Pick(ref tried, out _)!;

        Assert.Equal(["east", "west"], new[] { first.Cluster, second.Cluster });
        Assert.Null(Pick(policy, first, second));
    }

    private static UpstreamEndpoint? Pick(FailoverBackendPolicy policy, params UpstreamEndpoint[] already)
    {
        var tried = default(TriedEndpoints);
        foreach (var e in already) tried.Add(e);
        return policy.Pick(ref tried, out _);
    }

    private string? PickCluster(FailoverBackendPolicy policy)
    {
        var tried = default(TriedEndpoints);
        return policy.Pick(ref tried, out _)?.Cluster;
    }

    private void Eject(UpstreamEndpoint endpoint)
    {
        for (var i = 0; i < 7; i++)
            endpoint.State.Accrual.OnFailure(_time.GetTimestamp());
        Assert.False(endpoint.State.Accrual.IsOpen);
    }

    private BackendSet Set(string cluster) => new("echo", "default", [Endpoint(cluster)], _balancer);

    private UpstreamEndpoint Endpoint(string cluster) =>
        new($"127.0.0.1:{cluster.Length}", "spiffe://test/" + cluster, cluster, null, cluster != "east", new HttpMessageInvoker(new HttpClientHandler()),
            new UpstreamTransformer(null, cluster, "spiffe://test/caller"))
        { State = new EndpointState(_accrual, _time) };
}
