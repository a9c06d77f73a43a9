using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.Tests.Support;

namespace FedMesh.Proxy.Tests.Forwarding;

public sealed class UpstreamClientPoolTests : IDisposable
{
    private readonly TestPki _pki = new();
    private readonly ManualTimeProvider _time = new();

    public void Dispose() => _pki.Dispose();

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
        using var identity = _pki.Issue(_pki.East, TestPki.Id("east", "client"));
        using var pool = new UpstreamClientPool(identity, _time);

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
        using var identity = _pki.Issue(_pki.East, TestPki.Id("east", "client"));
        using var pool = new UpstreamClientPool(identity, _time, TimeSpan.FromSeconds(30));
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
}
