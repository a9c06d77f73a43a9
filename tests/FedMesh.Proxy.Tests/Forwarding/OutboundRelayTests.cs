using System.Net;
using System.Text;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Forwarding;

/// <summary>
/// HTTP/1.1 through the outbound listener's byte relay, to a service with two mTLS endpoints that record requests as
/// bytes and answer with scripted bytes: what an endpoint receives, what the app gets back, and the retries.
/// </summary>
public sealed class OutboundRelayTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _client = null!;
    private WorkloadIdentity _raw = null!;
    private RawBackend _first = null!;
    private RawBackend _second = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _client = await _mesh.StartProxyAsync(_mesh.Options("client", "client-east-0", await _mesh.StartAppAsync("client-app")));
        _raw = _mesh.Pki.Issue(_mesh.Pki.East, TestPki.Id("east", "raw"));
        _first = new RawBackend(_raw.ServerOptions());
        _second = new RawBackend(_raw.ServerOptions());
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("raw",
            Snapshots.Endpoint(_first.Address, _raw.Id.ToString(), instance: "raw-0"),
            Snapshots.Endpoint(_second.Address, _raw.Id.ToString(), instance: "raw-1"))));
        await Eventually.ValueAsync(() => Task.FromResult(_client.Routing.Current.Routes.Count), n => n > 0, "the routing table to fill");
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        await _first.DisposeAsync();
        await _second.DisposeAsync();
        _raw.Dispose();
    }

    private async Task<RawHttp> ConnectAsync()
    {
        var tcp = new System.Net.Sockets.TcpClient { NoDelay = true };
        await tcp.ConnectAsync(_client.OutboundEndpoint);
        return new RawHttp(tcp.GetStream());
    }

    private IEnumerable<RawMessage> Received() => _first.Received.Concat(_second.Received);

    [Fact]
    public async Task Request_ReachesAnEndpointAsOurIdentity_AndTheAnsweringClusterComesBack()
    {
        await using var app = await ConnectAsync();

        await app.SendAsync("GET /hello?x=1 HTTP/1.1\r\nHost: raw.default:8080\r\nx-fedmesh-caller: spiffe://fedmesh.local/cluster/east/ns/default/sa/forged\r\n"
            + "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nX-Custom: kept\r\n\r\n");
        var response = await app.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
        Assert.Equal("east", response.Field(WellKnown.UpstreamClusterHeader));
        var seen = Assert.Single(Received());
        Assert.Equal("GET /hello?x=1 HTTP/1.1", seen.StartLine);
        Assert.Equal(["raw.default:8080"], seen.Fields("Host"));
        Assert.Equal([_client.Identity.Id.ToString()], seen.Fields("x-fedmesh-caller"));
        Assert.Equal(["kept"], seen.Fields("X-Custom"));
        Assert.Empty(seen.Fields("Keep-Alive"));
    }

    [Fact]
    public async Task HeldBack5xx_IsRetriedOnTheOtherEndpoint_AndNeverReachesTheApp()
    {
        _first.Script["/flaky"] = _ => new RawAnswer("HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy");
        _second.Script["/flaky"] = request => new RawAnswer($"HTTP/1.1 200 OK\r\nContent-Length: {request.Body.Length}\r\n\r\n{request.BodyText}");
        await using var app = await ConnectAsync();
        var body = new string('b', 20_000);

        for (var i = 0; i < 8; i++)
        {
            // A PUT (idempotent) whose body arrives after its head: read whole, so it can be sent again.
            await app.SendAsync($"PUT /flaky HTTP/1.1\r\nHost: raw.default\r\nContent-Length: {body.Length}\r\n\r\n");
            await app.SendAsync(body);
            var response = await app.ReadResponseAsync();

            Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
            Assert.Equal(body, response.BodyText);
        }
        Assert.NotEmpty(_first.Received); // some first attempts went there, and were retried
        Assert.All(Received(), seen => Assert.Equal(body, seen.BodyText));
    }

    [Fact]
    public async Task EndpointClosingWithoutAnswer_IsRetriedOnTheOtherEndpoint()
    {
        _first.Script["/vanish"] = _ => null;
        await using var app = await ConnectAsync();

        for (var i = 0; i < 6; i++)
        {
            await app.SendAsync("GET /vanish HTTP/1.1\r\nHost: raw.default\r\n\r\n");
            Assert.Equal("HTTP/1.1 200 OK", (await app.ReadResponseAsync()).StartLine);
        }
        Assert.NotEmpty(_first.Received);
    }

    [Fact]
    public async Task PostWithoutRetryMark_IsSentOnce_AndItsFailureAnswered()
    {
        _first.Script["/submit"] = _ => new RawAnswer("HTTP/1.1 500 Broken\r\nContent-Length: 6\r\n\r\nbroken");
        _second.Script["/submit"] = _first.Script["/submit"];
        await using var app = await ConnectAsync();

        for (var i = 0; i < 4; i++)
        {
            await app.SendAsync("POST /submit HTTP/1.1\r\nHost: raw.default\r\nContent-Length: 2\r\n\r\nhi");
            var response = await app.ReadResponseAsync();
            Assert.Equal("HTTP/1.1 500 Broken", response.StartLine); // the app gets the endpoint's own answer
        }
        Assert.Equal(4, Received().Count());
    }

    [Fact]
    public async Task EveryEndpointFailing_IsAnswered502NamingTheLastOne()
    {
        _first.Script["/down"] = _ => null;
        _second.Script["/down"] = _ => null;
        await using var app = await ConnectAsync();

        await app.SendAsync("GET /down HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var response = await app.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 502 Bad Gateway", response.StartLine);
        Assert.Equal("upstream-unavailable", response.Field("x-fedmesh-error"));
        Assert.StartsWith("fedmesh proxy (cluster east): service 'raw.default': endpoint 127.0.0.1:", response.BodyText);
        Assert.Equal(2, Received().Count()); // the first attempt and one retry
    }

    [Fact]
    public async Task EndpointDeclaredDeadMidRequest_IsAbandoned_AndTheRequestFindsItsRouteAgain()
    {
        using var release = new ManualResetEventSlim();
        _first.Script["/held"] = _ =>
        {
            release.Wait(TimeSpan.FromSeconds(15));
            return new RawAnswer("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst");
        };
        _second.Script["/held"] = _ => new RawAnswer("HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond");
        var firstOnly = Snapshots.Of(Snapshots.Local("raw", Snapshots.Endpoint(_first.Address, _raw.Id.ToString(), instance: "raw-0")));
        _mesh.Discovery.Push(firstOnly);
        await Eventually.ValueAsync(() => Task.FromResult(_client.Routing.Current.Version), v => v == firstOnly.Version, "the first-only table");
        await using var app = await ConnectAsync();

        // Named by its short name; only the newest table has the second endpoint, so the retry must find the route again.
        await app.SendAsync("GET /held HTTP/1.1\r\nHost: raw\r\n\r\n");
        await Eventually.ValueAsync(() => Task.FromResult(_first.Received.Count), n => n == 1, "the request to reach the first endpoint");
        // The controller's probes declare the first endpoint dead: it is evicted, and the request waiting on it abandoned.
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("raw",
            Snapshots.Endpoint(_first.Address, _raw.Id.ToString(), healthy: false, instance: "raw-0"),
            Snapshots.Endpoint(_second.Address, _raw.Id.ToString(), instance: "raw-1"))));
        var response = await app.ReadResponseAsync();
        release.Set();

        Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
        Assert.Equal("second", response.BodyText);
        Assert.Single(_second.Received);
    }

    [Fact]
    public async Task UnknownService_IsAnsweredOnKestrelsWay()
    {
        await using var app = await ConnectAsync();

        await app.SendAsync("GET / HTTP/1.1\r\nHost: nothere.default\r\n\r\n");
        var response = await app.ReadResponseAsync();

        Assert.Equal("unknown-service", response.Field("x-fedmesh-error"));
        Assert.Contains("unknown service 'nothere.default'", response.BodyText);
    }
}
