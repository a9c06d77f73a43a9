using System.Net;
using System.Net.Security;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Gateway.Tests.Fakes;

/// <summary>What the backend saw of one request.</summary>
internal sealed record BackendSeen(string[] Caller, string Protocol, string Host, string Path, string? Peer);

/// <summary>
/// Stands in for a destination workload proxy's inbound listener: mTLS with its own workload identity, requiring a
/// client certificate, echoing what it received and counting every request that reached it.
/// </summary>
internal sealed class TestBackend : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _hits;

    private TestBackend(WebApplication app) => _app = app;

    public int Hits => Volatile.Read(ref _hits);

    /// <summary>host:port</summary>
    public string Address { get; private set; } = "";

    public static async Task<TestBackend> StartAsync(WorkloadIdentity identity)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen =>
        {
            listen.Protocols = HttpProtocols.Http1AndHttp2;
            listen.UseHttps(new TlsHandshakeCallbackOptions
            {
                OnConnection = _ =>
                {
                    var options = identity.ServerOptions();
                    options.ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];
                    return ValueTask.FromResult(options);
                },
            });
        }));
        var app = builder.Build();
        var backend = new TestBackend(app);
        app.Run(backend.HandleAsync);
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
        backend.Address = $"127.0.0.1:{address.Port}";
        return backend;
    }

    private Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _hits);
        var certificate = context.Connection.ClientCertificate;
        var seen = new BackendSeen(
            context.Request.Headers[WellKnown.CallerIdentityHeader].ToArray()!,
            context.Request.Protocol,
            context.Request.Host.Value ?? "",
            context.Request.Path.Value ?? "",
            certificate is null ? null : SpiffeId.FromCertificate(certificate, out _)?.ToString());
        return context.Response.WriteAsJsonAsync(seen);
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
