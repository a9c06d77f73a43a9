using FedMesh.Core.Identity;
using FedMesh.Gateway.Forwarding;

namespace FedMesh.Gateway.Tests;

public sealed class EndpointClientPoolTests : IDisposable
{
    private readonly CertificateAuthority _root = CertificateAuthority.CreateRoot("fedmesh.local", TimeProvider.System);
    private readonly WorkloadIdentity _gateway;

    public EndpointClientPoolTests() =>
        _gateway = WorkloadIdentity.FromIssuer(_root, new SpiffeId("fedmesh.local", "west", "fedmesh-system", "gateway"), TimeSpan.FromHours(1));

    [Fact]
    public void Get_SameIdentity_SharesOneClient()
    {
        using var pool = new EndpointClientPool(_gateway, TimeProvider.System, TimeSpan.FromMinutes(1));

        var first = pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo");
        var again = pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo");
        var other = pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/web");

        Assert.Same(first, again);
        Assert.NotSame(first, other);
        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public void RetainOnly_DropsIdentitiesNoLongerInUse()
    {
        using var pool = new EndpointClientPool(_gateway, TimeProvider.System, TimeSpan.FromMinutes(1));
        var echo = pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo");
        pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/web");

        pool.RetainOnly(["spiffe://fedmesh.local/cluster/west/ns/default/sa/echo"]);

        Assert.Equal(1, pool.Count);
        Assert.Same(echo, pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo"));
    }

    public void Dispose()
    {
        _gateway.Dispose();
        _root.Dispose();
    }
}
