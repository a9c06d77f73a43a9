using FedMesh.Core.Common;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Core.Transport;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Hosting;

/// <summary>One Kestrel listener with a single terminal request handler (no routing middleware).</summary>
internal sealed class Listener : IAsyncDisposable
{
    private readonly WebApplication _app;

    private Listener(WebApplication app) => _app = app;

    /// <summary>The address actually bound (port 0 resolved).</summary>
    public IPEndPoint BoundEndpoint { get; private set; } = new(IPAddress.Loopback, 0);

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Creates the listener; <paramref name="handler"/> gets the app's services (e.g. the forwarder).
    /// With <paramref name="tls"/> the port serves HTTP/1.1 and HTTP/2 over TLS, chosen by ALPN
    /// (<see cref="TlsTransport"/>); <paramref name="protocols"/> is then ignored. Without it,
    /// <see cref="HttpProtocols.Http1AndHttp2"/> serves both on the one port, telling them apart by their
    /// first bytes (<see cref="CleartextProtocolDetection"/>). <paramref name="keepAlive"/> replaces Kestrel's idle
    /// keep-alive timeout (130 s). A <paramref name="relay"/> (made once the app is built, given Kestrel's keep-alive and
    /// request-head timeouts) takes the plain HTTP/1.1 requests before Kestrel's HTTP layer; an <paramref name="http2Relay"/>
    /// (made once the app is built) takes the HTTP/2 connections instead of Kestrel.
    /// </summary>
    public static Listener Create(IPEndPoint endpoint, HttpProtocols protocols, ILoggerFactory loggerFactory,
        Func<IServiceProvider, RequestDelegate> handler, TlsListenOptions? tls = null, bool allowHostOverride = false,
        Action<IApplicationBuilder>? configurePipeline = null, TimeSpan? keepAlive = null,
        Func<TimeSpan, TimeSpan, Http11Relay?>? relay = null, Func<Http2Relay?>? http2Relay = null)
    {
        Http11Relay? built = null; // connections arrive only once the app is built and started
        Http2Relay? built2 = null;
        void Relayed(ListenOptions listen) => listen.UseRelay(() => built);
        Action<ListenOptions>? http2 = http2Relay is null ? null : listen => listen.UseHttp2Relay(() => built2);
        var detect = protocols == HttpProtocols.Http1AndHttp2 && tls is null;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, ManualLifetime>();
        builder.Services.AddMeshForwarder();
        if (detect)
            builder.Services.AddCleartextProtocolDetection();
        if (tls is not null)
            builder.Services.AddTlsTransport();
        builder.WebHost.UseKestrelCore().UseDataPlaneSockets().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // A proxy must not cap what the app streams through it, nor cut a slow or idle stream
            // (a gRPC stream between messages): peers are the local app or authenticated mesh members.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Limits.MinRequestBodyDataRate = null;
            kestrel.Limits.MinResponseDataRate = null;
            // An absolute-form target (sent through a forward-proxy setting) wins over a differing Host.
            kestrel.AllowHostHeaderOverride = allowHostOverride;
            if (keepAlive is { } idle)
                kestrel.Limits.KeepAliveTimeout = idle;
            if (tls is not null)
                kestrel.ListenTls(endpoint, tls, bound: Relayed, http2: http2);
            else if (detect)
                kestrel.ListenHttp1AndH2c(endpoint, http1: Relayed, http2: http2);
            else
                kestrel.Listen(endpoint, listen =>
                {
                    listen.Protocols = protocols;
                    if (protocols == HttpProtocols.Http1)
                        Relayed(listen);
                });
        });
        var app = builder.Build();
        configurePipeline?.Invoke(app);
        app.Run(handler(app.Services));
        if (relay is not null)
        {
            var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
            built = relay(limits.KeepAliveTimeout, limits.RequestHeadersTimeout);
        }
        built2 = http2Relay?.Invoke();
        return new Listener(app);
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is not null)
        {
            foreach (var address in addresses)
            {
                var uri = new Uri(address);
                if (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip))
                {
                    BoundEndpoint = new IPEndPoint(ip, uri.Port);
                    break;
                }
            }
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken) => await _app.StopAsync(cancellationToken).ConfigureAwait(false);

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
