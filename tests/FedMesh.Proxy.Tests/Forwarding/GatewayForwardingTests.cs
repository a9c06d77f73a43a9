using System.Net;
using FedMesh.Core.Resources;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Forwarding;

/// <summary>Mirrored services go to the remote cluster's gateway over mTLS and HTTP/2, named as the remote service.</summary>
public sealed class GatewayForwardingTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _client = null!;
    private string _westGateway = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _client = await _mesh.StartProxyAsync(_mesh.Options("client", "client-east-0", await _mesh.StartAppAsync("client-app")));
        _westGateway = await _mesh.StartGatewayAsync("west-gateway", _mesh.Pki.West, TestPki.GatewayId("west"));
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private Task<HttpResponseMessage> GetWhenRoutedAsync(HttpClient http, string url)
        => Eventually.ValueAsync(() => http.GetAsync(url),
            r => !r.Headers.TryGetValues("x-fedmesh-error", out var e) || e.Single() != "unknown-service", "the snapshot to arrive");

    [Fact]
    public async Task MirroredService_GoesOverMutualTlsToGatewayInTheAppsHttp11_WithHostRewritten()
    {
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Mirror("echo", "west",
            Snapshots.Gateway(_westGateway, TestPki.GatewayId("west").ToString(), "west"))));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);

        using var response = await GetWhenRoutedAsync(http, "http://echo-west.default/path");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("server=west-gateway", body);
        Assert.Contains("proto=HTTP/1.1;", body);
        Assert.Contains("host=echo.default;", body);
        Assert.Contains("path=/path", body);
        Assert.Contains($"caller={_client.Identity.Id}", body); // the gateway verified our client certificate
        Assert.Equal("west", response.Headers.GetValues(WellKnown.UpstreamClusterHeader).Single());
    }

    [Fact]
    public async Task GatewayPresentingAnotherIdentity_IsRefused()
    {
        // A gateway of cluster west is expected, but this one presents an east workload identity.
        var impostor = await _mesh.StartGatewayAsync("impostor", _mesh.Pki.East, TestPki.Id("east", "impostor"));
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Mirror("echo", "west",
            Snapshots.Gateway(impostor, TestPki.GatewayId("west").ToString(), "west"))));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);

        using var response = await GetWhenRoutedAsync(http, "http://echo-west/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("upstream-unavailable", response.Headers.GetValues("x-fedmesh-error").Single());
        Assert.Contains($"gateway {impostor} of cluster west", body);
        Assert.DoesNotContain("server=impostor", body);
    }

    [Fact]
    public async Task WeightedRoute_SplitsByWeight()
    {
        var echoApp = await _mesh.StartAppAsync("echo-app");
        var echo = await _mesh.StartProxyAsync(_mesh.Options("echo", "echo-east-0", echoApp));
        var local = Snapshots.Local("echo", Snapshots.Endpoint(echo.InboundEndpoint.ToString(), echo.Identity.Id.ToString()))
            .WithSplit(("echo", 3), ("echo-west", 1));
        _mesh.Discovery.Push(Snapshots.Of(local, Snapshots.Mirror("echo", "west",
            Snapshots.Gateway(_westGateway, TestPki.GatewayId("west").ToString(), "west"))));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);
        await Eventually.ValueAsync(() => Task.FromResult(_client.Routing.Current.Routes.Count), n => n > 0, "the split snapshot");

        var byCluster = new Dictionary<string, int> { ["east"] = 0, ["west"] = 0 };
        for (var i = 0; i < 40; i++)
        {
            using var response = await http.GetAsync("http://echo/");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            byCluster[response.Headers.GetValues(WellKnown.UpstreamClusterHeader).Single()]++;
        }

        // Smooth weighted round robin is exact over whole cycles.
        Assert.Equal(30, byCluster["east"]);
        Assert.Equal(10, byCluster["west"]);
    }

    [Fact]
    public async Task LocalEndpoint_KeepsTheAppsHttp11AndHost()
    {
        var peer = await _mesh.StartGatewayAsync("peer-inbound", _mesh.Pki.East, TestPki.Id("east", "echo"));
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("echo", Snapshots.Endpoint(peer, TestPki.Id("east", "echo").ToString()))));
        using var http = MeshFixture.ForwardProxyClient(_client.OutboundEndpoint);

        using var response = await GetWhenRoutedAsync(http, "http://echo/");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Contains("server=peer-inbound", body);
        Assert.Contains("proto=HTTP/1.1;", body);
        Assert.Contains("host=echo;", body);
    }
}
