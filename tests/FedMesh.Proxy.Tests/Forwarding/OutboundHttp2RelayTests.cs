using System.Net;
using System.Net.Security;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace FedMesh.Proxy.Tests.Forwarding;

/// <summary>
/// h2c through the outbound listener's HTTP/2 relay to a service with two HTTP/2 endpoints over mTLS, one of which
/// fails on some paths: what an endpoint sees, what the app gets back, and which requests are sent again.
/// </summary>
public sealed class OutboundHttp2RelayTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _client = null!;
    private WorkloadIdentity _identity = null!;
    private readonly List<WebApplication> _backends = [];
    private int _firstHits;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _client = await _mesh.StartProxyAsync(_mesh.Options("client", "client-east-0", await _mesh.StartAppAsync("client-app")));
        _identity = _mesh.Pki.Issue(_mesh.Pki.East, TestPki.Id("east", "h2svc"));
        var first = await StartBackendAsync("first", failing: true);
        var second = await StartBackendAsync("second", failing: false);
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("h2svc",
            Snapshots.Endpoint(first, _identity.Id.ToString(), instance: "h2svc-0"),
            Snapshots.Endpoint(second, _identity.Id.ToString(), instance: "h2svc-1"))));
        await Eventually.ValueAsync(() => Task.FromResult(_client.Routing.Current.Routes.Count), n => n > 0, "the routing table to fill");
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        foreach (var backend in _backends)
            await backend.DisposeAsync();
        _identity.Dispose();
    }

    /// <summary>An HTTP/2-only endpoint over mTLS; the failing one answers /flaky with 503 and resets /reset.</summary>
    private async Task<string> StartBackendAsync(string name, bool failing)
    {
        var (app, address) = await Servers.StartAsync(HttpProtocols.Http2, listen => listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ =>
            {
                var options = _identity.ServerOptions();
                options.ApplicationProtocols = [SslApplicationProtocol.Http2];
                return ValueTask.FromResult(options);
            },
        }), null, a => a.Run(async context =>
        {
            if (failing)
                Interlocked.Increment(ref _firstHits);
            if (failing && context.Request.Path == "/flaky")
            {
                context.Response.StatusCode = 503;
                return;
            }
            if (failing && context.Request.Path == "/reset")
            {
                context.Abort();
                return;
            }
            await Servers.Describe(context, name);
        }));
        _backends.Add(app);
        return $"127.0.0.1:{address.Port}";
    }

    private HttpRequestMessage Request(HttpMethod method, string path, string host = "h2svc", int body = -1)
    {
        var request = new HttpRequestMessage(method, $"http://{_client.OutboundEndpoint}{path}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = host;
        if (body >= 0)
            request.Content = new ByteArrayContent(new byte[body]);
        return request;
    }

    [Fact]
    public async Task Request_ReachesAnEndpointAsOurIdentity_AndTheAnsweringClusterComesBack()
    {
        using var http = MeshFixture.DirectClient();
        using var response = await http.SendAsync(Request(HttpMethod.Get, "/hello?x=1"));
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Contains($"proto=HTTP/2;path=/hello?x=1;caller={_client.Identity.Id}", text);
        Assert.Equal("east", Assert.Single(response.Headers.GetValues(WellKnown.UpstreamClusterHeader)));
    }

    [Fact]
    public async Task HeldBack5xx_IsRetriedOnTheOtherEndpoint_WithItsBody_AndNeverReachesTheApp()
    {
        using var http = MeshFixture.DirectClient();
        for (var i = 0; i < 10; i++)
        {
            using var response = await http.SendAsync(Request(HttpMethod.Put, "/flaky", body: 20_000)); // idempotent, a declared body kept for a retry
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
            Assert.Contains("server=second", text);
            Assert.Contains("body=20000", text);
        }
        Assert.True(_firstHits > 0, "no first attempt went to the failing endpoint: nothing was retried");
    }

    [Fact]
    public async Task AGetAnEndpointResets_IsSentAgain()
    {
        using var http = MeshFixture.DirectClient();
        for (var i = 0; i < 10; i++)
        {
            using var response = await http.SendAsync(Request(HttpMethod.Get, "/reset"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.True(_firstHits > 0, "no first attempt went to the resetting endpoint: nothing was retried");
    }

    [Fact]
    public async Task APostAnEndpointResets_IsNotSentAgain()
    {
        using var http = MeshFixture.DirectClient();
        var failed = 0;
        // The balancer picks either endpoint at first: within 20 POSTs one reaches the resetting endpoint (else 1 in 10^6).
        for (var i = 0; i < 20 && failed == 0; i++)
        {
            using var response = await http.SendAsync(Request(HttpMethod.Post, "/reset", body: 10));
            if (response.StatusCode == HttpStatusCode.OK)
                continue;
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal("upstream-unavailable", Assert.Single(response.Headers.GetValues("x-fedmesh-error")));
            failed++;
        }
        Assert.Equal(1, failed);
        Assert.Equal(1, _firstHits); // and it went nowhere else: every POST the second endpoint saw was answered
    }

    [Theory]
    [InlineData("nosuch", HttpStatusCode.BadGateway, "unknown-service")]
    public async Task RequestsTheProxyAnswersItself_GetItsAnswerOverHttp2(string host, HttpStatusCode status, string code)
    {
        using var http = MeshFixture.DirectClient();
        using var response = await http.SendAsync(Request(HttpMethod.Get, "/", host));

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal(code, Assert.Single(response.Headers.GetValues("x-fedmesh-error")));
        Assert.Contains("h2svc", await response.Content.ReadAsStringAsync()); // the known services are named
    }
}
