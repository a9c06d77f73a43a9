using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Common;
using FedMesh.Core.Identity;
using FedMesh.Proxy.Configuration;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FedMesh.Proxy.Tests.Inbound;

/// <summary>The inbound listener admits only mesh members and tells the app who called.</summary>
public sealed class InboundListenerTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _echo = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _echo = await _mesh.StartProxyAsync(_mesh.Options("echo", "echo-east-0", await _mesh.StartAppAsync("echo-app")));
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private HttpClient Client(X509Certificate2? clientCertificate, IEnumerable<X509Certificate2>? chain = null)
    {
        var ssl = new SslClientAuthenticationOptions
        {
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        };
        if (clientCertificate is not null)
            ssl.ClientCertificateContext = SslStreamCertificateContext.Create(clientCertificate, new X509Certificate2Collection(chain?.ToArray() ?? []), offline: true);
        return new HttpClient(new SocketsHttpHandler { SslOptions = ssl }) { Timeout = TimeSpan.FromSeconds(10) };
    }

    [Fact]
    public async Task ClientWithoutCertificate_IsRefused()
    {
        using var http = Client(null);

        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"https://{_echo.InboundEndpoint}/"));
    }

    [Fact]
    public async Task ClientFromAnotherTrustAnchor_IsRefused()
    {
        using var foreignRoot = CertificateAuthority.CreateRoot(TestPki.TrustDomain, TimeProvider.System);
        using var foreignIssuer = foreignRoot.CreateIntermediate("east");
        using var foreign = WorkloadIdentity.FromIssuer(foreignIssuer, TestPki.Id("east", "intruder"), TimeSpan.FromHours(1));
        using var http = Client(foreign.Certificate, foreign.Chain);

        await Assert.ThrowsAnyAsync<Exception>(() => http.GetStringAsync($"https://{_echo.InboundEndpoint}/"));
        Assert.True(_mesh.Logs.Contains("inbound connection refused"), "the refusal is logged");
    }

    [Fact]
    public async Task MeshMember_OverHttp2_ReachesHttp1App_WithVerifiedCallerIdentity()
    {
        var options = _mesh.Options("legacy", "legacy-east-0", await _mesh.StartAppAsync("echo-app"));
        options.AppProtocol = AppProtocols.Http1; // an app that cannot speak h2c
        var legacy = await _mesh.StartProxyAsync(options);
        using var member = _mesh.Pki.Issue(_mesh.Pki.East, TestPki.Id("east", "client"));
        using var http = Client(member.Certificate, member.Chain);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{legacy.InboundEndpoint}/who")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Host = "echo.default";

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Contains("server=echo-app", body);
        Assert.Contains("proto=HTTP/1.1;", body); // the app is spoken to in plain HTTP/1.1
        Assert.Contains("host=echo.default;", body);
        Assert.Contains($"caller={member.Id}", body);
    }

    [Theory]
    [InlineData(2, "HTTP/2")] // gRPC: the app gets HTTP/2 with prior knowledge
    [InlineData(1, "HTTP/1.1")]
    public async Task MeshMember_ByDefault_SpeaksToAppInCallersProtocol(int major, string appSees)
    {
        var (app, address) = await Servers.StartAsync(HttpProtocols.Http1AndHttp2, null, null, a => ((IApplicationBuilder)a).Run(c => Servers.Describe(c, "both-app")));
        await using var _ = app;
        var (h2cApp, h2cAddress) = await Servers.StartAsync(HttpProtocols.Http2, null, null, a => ((IApplicationBuilder)a).Run(c => Servers.Describe(c, "h2c-app")));
        await using var __ = h2cApp;
        var proxy = await _mesh.StartProxyAsync(_mesh.Options("grpc", "grpc-east-0", major == 2 ? h2cAddress : address));
        using var member = _mesh.Pki.Issue(_mesh.Pki.East, TestPki.Id("east", "client"));
        using var http = Client(member.Certificate, member.Chain);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"https://{proxy.InboundEndpoint}/svc/Method")
        {
            Version = new Version(major, major == 2 ? 0 : 1),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(new byte[100]),
        };

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains($"proto={appSees};", body);
        Assert.Contains("body=100", body);
        Assert.Contains($"caller={member.Id}", body);
    }

    [Fact]
    public async Task CallerHeaderFromGateway_IsKept()
    {
        using var gateway = _mesh.Pki.Issue(_mesh.Pki.East, TestPki.GatewayId("east"));
        using var http = Client(gateway.Certificate, gateway.Chain);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{_echo.InboundEndpoint}/");
        request.Headers.Add("x-fedmesh-caller", TestPki.Id("west", "client").ToString());

        var body = await (await http.SendAsync(request)).Content.ReadAsStringAsync();

        Assert.Contains($"caller={TestPki.Id("west", "client")}", body);
    }
}
