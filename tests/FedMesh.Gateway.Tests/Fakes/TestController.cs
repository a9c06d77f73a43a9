using System.Net;
using FedMesh.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Gateway.Tests.Fakes;

/// <summary>A cluster controller's gRPC surface on 127.0.0.1: the real <see cref="IdentityService"/> and a test discovery server.</summary>
internal sealed class TestController : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestController(WebApplication app, TestDiscoveryService discovery, string address)
    {
        _app = app;
        Discovery = discovery;
        Address = address;
    }

    public TestDiscoveryService Discovery { get; }

    /// <summary>http://127.0.0.1:port</summary>
    public string Address { get; }

    public static async Task<TestController> StartAsync(CertificateAuthority issuer, string cluster, string token)
    {
        var discovery = new TestDiscoveryService();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddIdentityService(issuer, cluster, issuer.TrustDomain, token);
        builder.Services.AddSingleton(discovery);
        var app = builder.Build();
        app.MapGrpcService<IdentityService>();
        app.MapGrpcService<TestDiscoveryService>();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new TestController(app, discovery, address);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
