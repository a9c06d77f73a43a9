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

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _hits);
        switch (context.Request.Path.Value)
        {
            case "/echo-body": // the request body back as it comes, then a trailer (HTTP/2), as a gRPC stream would
                context.Response.DeclareTrailer("x-trailer");
                await context.Request.Body.CopyToAsync(context.Response.Body);
                context.Response.AppendTrailer("x-trailer", "done");
                return;
            case "/count-body": // the request body read whole, then its length and sum, then a trailer
                long length = 0, sum = 0;
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
                {
                    length += read;
                    for (var i = 0; i < read; i++)
                        sum += buffer[i];
                }
                context.Response.DeclareTrailer("x-trailer");
                await context.Response.WriteAsync($"{length} {sum}");
                context.Response.AppendTrailer("x-trailer", "done");
                return;
            case "/bytes": // n bytes of a pattern the test can check
                var n = int.Parse(context.Request.Query["n"]!, System.Globalization.CultureInfo.InvariantCulture);
                await context.Response.Body.WriteAsync(Pattern(n));
                return;
            case "/abort":
                context.Abort();
                return;
        }
        var certificate = context.Connection.ClientCertificate;
        var seen = new BackendSeen(
            context.Request.Headers[WellKnown.CallerIdentityHeader].ToArray()!,
            context.Request.Protocol,
            context.Request.Host.Value ?? "",
            context.Request.Path.Value ?? "",
            certificate is null ? null : SpiffeId.FromCertificate(certificate, out _)?.ToString());
        await context.Response.WriteAsJsonAsync(seen);
    }

    /// <summary>n bytes that a shifted or dropped piece would show: byte i is i mod 251.</summary>
    public static byte[] Pattern(int n)
    {
        var bytes = new byte[n];
        for (var i = 0; i < n; i++)
            bytes[i] = (byte)(i % 251);
        return bytes;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
