using System.Net;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Forwarding;

/// <summary>The proxy's pooled mTLS connections to a gateway resume their session when a connection is replaced.</summary>
public sealed class PeerResumptionTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _client = null!;
    private TlsHelloTap _tap = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _client = await _mesh.StartProxyAsync(_mesh.Options("client", "client-east-0", await _mesh.StartAppAsync("client-app")));
        var gateway = await _mesh.StartGatewayAsync("west-gateway", _mesh.Pki.West, TestPki.GatewayId("west"));
        _tap = new TlsHelloTap(IPEndPoint.Parse(gateway));
    }

    public async Task DisposeAsync()
    {
        await _tap.DisposeAsync();
        await _mesh.DisposeAsync();
    }

    [Fact]
    public async Task ReplacedConnection_ResumesUnderTheEndpointsOwnName_AndIsStillVerified()
    {
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Mirror("echo", "west",
            Snapshots.Gateway(_tap.Endpoint.ToString(), TestPki.GatewayId("west").ToString(), "west"))));
        // Origin-form with a Host header: the request takes the direct way, as plain HTTP/1.1 from an app does.
        using var http = MeshFixture.DirectClient();
        using (var first = await Eventually.ValueAsync(() => http.SendAsync(Get("/")),
            r => r.StatusCode == HttpStatusCode.OK, "the snapshot to arrive"))
        {
        }
        _tap.CloseAll(); // as a restart of something in between would

        using var response = await http.SendAsync(Get("/again"));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"caller={_client.Identity.Id}", body);
        var hellos = _tap.Handshakes;
        Assert.True(2 == hellos.Count, string.Join(" | ", hellos));
        Assert.False(hellos[0].Offered);
        Assert.True(hellos[1].Offered, string.Join(" | ", hellos));
        Assert.True(hellos[1].Resumed, "the replacement connection resumed the first one's session");
        Assert.EndsWith(".session.fedmesh.invalid", hellos[1].ServerName);
        Assert.Equal(hellos[0].ServerName, hellos[1].ServerName);
    }

    [Fact]
    public async Task ReplacedHttp2Connection_ResumesUnderTheEndpointsOwnName_AndIsStillVerified()
    {
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Mirror("echo", "west",
            Snapshots.Gateway(_tap.Endpoint.ToString(), TestPki.GatewayId("west").ToString(), "west"))));
        // h2c from the app: the HTTP/2 relay's pooled connections to the gateway, ALPN h2.
        using var http = MeshFixture.DirectClient();
        using (var first = await Eventually.ValueAsync(() => http.SendAsync(Get("/", HttpVersion.Version20)),
            r => r.StatusCode == HttpStatusCode.OK, "the snapshot to arrive"))
        {
        }
        _tap.CloseAll();

        using var response = await http.SendAsync(Get("/again", HttpVersion.Version20));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"caller={_client.Identity.Id}", body);
        var hellos = _tap.Handshakes;
        Assert.True(2 == hellos.Count, string.Join(" | ", hellos));
        Assert.True(hellos[1].Offered && hellos[1].Resumed, "the replacement HTTP/2 connection resumed the first one's session: " + string.Join(" | ", hellos));
        Assert.Equal(hellos[0].ServerName, hellos[1].ServerName);
    }

    private HttpRequestMessage Get(string path, Version? version = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, $"http://{_client.OutboundEndpoint}{path}");
        request.Headers.Host = "echo-west.default";
        if (version is not null)
        {
            request.Version = version;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionExact;
        }
        return request;
    }
}
