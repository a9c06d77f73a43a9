using System.Diagnostics;
using System.Net;
using FedMesh.Core.Resources;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Forwarding;

/// <summary>A client workload's proxy routes by authority to the echo workload's proxy (inbound mTLS) and its app.</summary>
public sealed class OutboundRoutingTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _client = null!;
    private ProxyRuntime _echo = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        var clientApp = await _mesh.StartAppAsync("client-app");
        var echoApp = await _mesh.StartAppAsync("echo-app");
        _client = await _mesh.StartProxyAsync(_mesh.Options("client", "client-east-0", clientApp));
        _echo = await _mesh.StartProxyAsync(_mesh.Options("echo", "echo-east-0", echoApp));
        _mesh.Discovery.Push(Snapshots.Of(EchoService()));
        await WaitForVersionAsync(_client);
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private Core.Discovery.Protocol.Service EchoService()
        => Snapshots.Local("echo", Snapshots.Endpoint(_echo.InboundEndpoint.ToString(), _echo.Identity.Id.ToString(), instance: "echo-east-0"));

    private async Task WaitForVersionAsync(ProxyRuntime proxy)
        => await Eventually.ValueAsync(() => Task.FromResult(proxy.Routing.Current.Routes.Count), n => n > 0, "the routing table to fill");

    [Fact]
    public async Task AbsoluteFormTarget_LocalService_ReachesAppThroughPeerInbound()
    {
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);

        using var response = await http.GetAsync("http://echo.default/hello?x=1");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("server=echo-app", body);
        Assert.Contains("host=echo.default;", body);
        Assert.Contains("path=/hello?x=1", body);
        // The app sees the verified caller: the client workload's identity, set by its proxy.
        Assert.Contains($"caller={_client.Identity.Id}", body);
        Assert.Equal("east", response.Headers.GetValues(WellKnown.UpstreamClusterHeader).Single());
    }

    [Theory]
    [InlineData("echo")]
    [InlineData("echo.default")]
    [InlineData("echo.default.svc.cluster.local")]
    [InlineData("echo:8080")]
    [InlineData("ECHO.default.svc")]
    public async Task HostHeader_AnyNameForm_RoutesToService(string host)
    {
        using var http = MeshFixture.DirectClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{_client.OutboundEndpoint}/submit") { Content = new StringContent("payload") };
        request.Headers.Host = host;

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("server=echo-app", body);
        Assert.Contains($"host={host};", body);
    }

    [Fact]
    public async Task UnknownService_Returns502Quickly_WithKnownServices()
    {
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);
        var watch = Stopwatch.StartNew();

        using var response = await http.GetAsync("http://echo-west.default/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.Elapsed}");
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("unknown-service", response.Headers.GetValues("x-fedmesh-error").Single());
        Assert.Equal("fedmesh proxy (cluster east): unknown service 'echo-west.default'; known services: echo.default\n", body);
    }

    [Fact]
    public async Task ServiceWithoutHealthyEndpoints_Returns503NoEndpoints()
    {
        _mesh.Discovery.Push(Snapshots.Of(EchoService(),
            Snapshots.Local("down", Snapshots.Endpoint(_echo.InboundEndpoint.ToString(), _echo.Identity.Id.ToString(), healthy: false))));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);

        using var response = await Eventually.ValueAsync(() => http.GetAsync("http://down/"),
            r => r.StatusCode != HttpStatusCode.BadGateway, "the snapshot with 'down'");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("no-endpoints", response.Headers.GetValues("x-fedmesh-error").Single());
        Assert.Contains("'down.default' has no healthy endpoints", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SnapshotUpdate_SwitchesRoutingWithoutRestart()
    {
        var otherApp = await _mesh.StartAppAsync("echo-v2-app");
        var v2 = await _mesh.StartProxyAsync(_mesh.Options("echo", "echo-east-1", otherApp));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);
        Assert.Contains("server=echo-app", await http.GetStringAsync("http://echo/"));

        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("echo",
            Snapshots.Endpoint(v2.InboundEndpoint.ToString(), v2.Identity.Id.ToString(), instance: "echo-east-1"))));

        var body = await Eventually.ValueAsync(() => http.GetStringAsync("http://echo/"),
            b => b.Contains("server=echo-v2-app"), "routing to switch to the new endpoint");
        Assert.Contains("server=echo-v2-app", body);
    }

    [Fact]
    public async Task EndpointPresentingAnotherIdentity_IsRefused()
    {
        // The snapshot says echo must present the client's identity; the echo proxy presents its own.
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("echo",
            Snapshots.Endpoint(_echo.InboundEndpoint.ToString(), _client.Identity.Id.ToString()))));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);

        using var response = await Eventually.ValueAsync(() => http.GetAsync("http://echo/"),
            r => r.StatusCode != HttpStatusCode.OK, "the snapshot with the wrong identity");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream-unavailable", response.Headers.GetValues("x-fedmesh-error").Single());
        Assert.Contains(_client.Identity.Id.ToString(), await response.Content.ReadAsStringAsync());
        Assert.True(_mesh.Logs.Contains("but '" + _client.Identity.Id + "' was expected"), "the TLS refusal says which identity was expected");
    }

    [Fact]
    public async Task EndpointNotListening_Returns502UpstreamUnavailable()
    {
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("echo", Snapshots.Endpoint("127.0.0.1:1", _echo.Identity.Id.ToString()))));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);

        using var response = await Eventually.ValueAsync(() => http.GetAsync("http://echo/"),
            r => r.StatusCode != HttpStatusCode.OK, "the snapshot with the dead endpoint");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream-unavailable", response.Headers.GetValues("x-fedmesh-error").Single());
        Assert.Contains("endpoint 127.0.0.1:1", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConnectTunnel_IsRefusedWithExplanation()
    {
        using var http = MeshFixture.DirectClient();
        using var request = new HttpRequestMessage(HttpMethod.Connect, $"http://{_client.OutboundEndpoint}/");
        request.Headers.Host = "echo:443";

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("tunnel-unsupported", response.Headers.GetValues("x-fedmesh-error").Single());
    }

    [Fact]
    public async Task LargeRequestBody_IsStreamedThroughBothProxies()
    {
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);
        var payload = new byte[48 * 1024 * 1024]; // above Kestrel's default 30 MB request limit

        using var response = await http.PostAsync("http://echo/upload", new ByteArrayContent(payload));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.EndsWith($";body={payload.Length}", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AbsoluteFormTarget_WinsOverADifferentHostHeader()
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_client.OutboundEndpoint);
        var stream = tcp.GetStream();
        var request = "GET http://echo.default/raw HTTP/1.1\r\nHost: somewhere-else\r\nConnection: close\r\n\r\n"u8.ToArray();
        await stream.WriteAsync(request);

        using var reader = new StreamReader(stream);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(10));

        Assert.StartsWith("HTTP/1.1 200", response);
        Assert.Contains("server=echo-app", response);
        Assert.Contains("path=/raw", response);
    }
}
