using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

public sealed class PeerClientPoolTests : IDisposable
{
    private readonly CertificateAuthority _root = CertificateAuthority.CreateRoot("fedmesh.local", TimeProvider.System);
    private readonly ManualTimeProvider _time = new(DateTimeOffset.UnixEpoch);

    public void Dispose() => _root.Dispose();

    private WorkloadIdentity Identity() =>
        WorkloadIdentity.FromIssuer(_root, new SpiffeId("fedmesh.local", "east", "default", "client"), TimeSpan.FromHours(1));

    private PeerClientPool Pool(WorkloadIdentity identity, TimeSpan? grace = null) =>
        new(identity, _time, grace ?? TimeSpan.FromSeconds(30), (ssl, _) => new HttpMessageInvoker(new SocketsHttpHandler { SslOptions = ssl }));

    private static async Task<bool> IsDisposedAsync(HttpMessageInvoker invoker)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://127.0.0.1:1/");
        try
        {
            using var response = await invoker.SendAsync(request, CancellationToken.None);
            return false;
        }
        catch (ObjectDisposedException)
        {
            return true;
        }
        catch (HttpRequestException)
        {
            return false; // alive: it tried to connect
        }
    }

    [Fact]
    public void Get_SameIdentity_SharesOneClient()
    {
        using var identity = Identity();
        using var pool = Pool(identity);

        var first = pool.Get("spiffe://fedmesh.local/cluster/east/ns/default/sa/echo");
        var second = pool.Get("spiffe://fedmesh.local/cluster/east/ns/default/sa/echo");
        var other = pool.Get("spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway");

        Assert.Same(first, second);
        Assert.NotSame(first, other);
        Assert.Equal(2, pool.Count);
    }

    [Fact]
    public async Task RetainOnly_UnreferencedClient_IsDisposedAfterGrace()
    {
        using var identity = Identity();
        using var pool = Pool(identity, TimeSpan.FromSeconds(30));
        const string Echo = "spiffe://fedmesh.local/cluster/east/ns/default/sa/echo";
        const string Gateway = "spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway";
        var echo = pool.Get(Echo);
        var gateway = pool.Get(Gateway);

        pool.RetainOnly(new HashSet<string> { Gateway });

        Assert.Equal(1, pool.Count);
        Assert.False(await IsDisposedAsync(echo)); // requests in flight may finish
        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.True(await IsDisposedAsync(echo));
        Assert.False(await IsDisposedAsync(gateway));
        Assert.NotSame(echo, pool.Get(Echo)); // a later snapshot gets a fresh client
    }

    [Fact]
    public void RetainOnly_KeepsTheClientsStillInUse()
    {
        using var identity = Identity();
        using var pool = Pool(identity);
        var echo = pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo");
        pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/web");

        pool.RetainOnly(new HashSet<string> { "spiffe://fedmesh.local/cluster/west/ns/default/sa/echo" });

        Assert.Equal(1, pool.Count);
        Assert.Same(echo, pool.Get("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo"));
    }
}
