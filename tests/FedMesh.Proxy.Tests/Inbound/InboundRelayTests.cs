using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Inbound;

/// <summary>HTTP/1.1 through the inbound listener's byte relay, seen as bytes by the app and by the mesh member calling.</summary>
public sealed class InboundRelayTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private RawBackend _app = null!;
    private ProxyRuntime _proxy = null!;
    private WorkloadIdentity _member = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _app = new RawBackend();
        _proxy = await _mesh.StartProxyAsync(_mesh.Options("raw", "raw-east-0", new Uri($"http://{_app.Address}")));
        _member = _mesh.Pki.Issue(_mesh.Pki.East, TestPki.Id("east", "client"));
    }

    public async Task DisposeAsync()
    {
        _member.Dispose();
        await _mesh.DisposeAsync();
        await _app.DisposeAsync();
    }

    private Task<RawHttp> ConnectAsync() => RawHttp.ConnectTlsAsync(_proxy.InboundEndpoint, new SslClientAuthenticationOptions
    {
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        ClientCertificateContext = SslStreamCertificateContext.Create(_member.Certificate, new X509Certificate2Collection(_member.Chain.ToArray()), offline: true),
    });

    [Fact]
    public async Task Request_ReachesTheAppWithThePeerAsCaller_AndTheHopsFieldsDropped()
    {
        await using var client = await ConnectAsync();

        await client.SendAsync("PUT /thing?x=1 HTTP/1.1\r\nHost: raw.default\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 4\r\n\r\nbody");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
        Assert.Equal("body", response.BodyText);
        var seen = _app.Received.Last();
        Assert.Equal("PUT /thing?x=1 HTTP/1.1", seen.StartLine);
        Assert.Equal([_member.Id.ToString()], seen.Fields("x-fedmesh-caller"));
        Assert.Empty(seen.Fields("Keep-Alive"));
        Assert.Empty(seen.Fields("Connection"));
        Assert.Equal("body", seen.BodyText);
    }

    [Fact]
    public async Task CallerSetByTheGateway_IsKept_AndSeveralAreJoinedOnKestrelsWay()
    {
        await using var client = await ConnectAsync();

        await client.SendAsync("GET /one HTTP/1.1\r\nHost: raw.default\r\nx-fedmesh-caller: spiffe://fedmesh.local/cluster/west/ns/default/sa/client\r\n\r\n");
        await client.ReadResponseAsync();
        var one = _app.Received.Last();
        await client.SendAsync("GET /two HTTP/1.1\r\nHost: raw.default\r\nx-fedmesh-caller: a\r\nx-fedmesh-caller: b\r\n\r\n");
        await client.ReadResponseAsync();
        var two = _app.Received.Last();

        Assert.Equal(["spiffe://fedmesh.local/cluster/west/ns/default/sa/client"], one.Fields("x-fedmesh-caller"));
        Assert.Equal(["a,b"], two.Fields("x-fedmesh-caller"));
    }

    [Fact]
    public async Task AppClosingWithoutAnswer_Gets502NamingTheApp()
    {
        _app.Script["/vanish"] = _ => null;
        await using var client = await ConnectAsync();

        await client.SendAsync("GET /vanish HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 502 Bad Gateway", response.StartLine);
        Assert.Equal("app-unavailable", response.Field("x-fedmesh-error"));
        Assert.Contains($"the app at http://{_app.Address} failed", response.BodyText);
        Assert.True(_mesh.Logs.Contains($"request to the app at http://{_app.Address} failed"), "the failure is logged");
    }
}
