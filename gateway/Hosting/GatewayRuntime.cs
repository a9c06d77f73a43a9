using System.Diagnostics;
using System.Net;
using FedMesh.Core.Common;
using FedMesh.Core.Discovery;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Http2;
using FedMesh.Core.Identity;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Transport;
using FedMesh.Gateway.Admin;
using FedMesh.Gateway.Configuration;
using FedMesh.Gateway.Forwarding;
using FedMesh.Gateway.Routing;
using FedMesh.Gateway.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Gateway.Hosting;

/// <summary>
/// A running gateway: both listeners bound first (so <c>/ready</c> answers 503 while starting), then its identity
/// obtained from the controller, then discovery watched; routes are swapped in as snapshots arrive.
/// </summary>
internal sealed partial class GatewayRuntime : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ListenOptions[] _listeners;
    private readonly ILogger _logger;
    private readonly string _cluster;
    private WorkloadIdentity? _identity;
    private PeerClientPool? _clients;
    private DiscoveryClient? _discovery;
    private StatsReporter? _reporter;
    private readonly TelemetryHost _telemetry;
    private readonly IDisposable _published;

    private GatewayRuntime(WebApplication app, ListenOptions[] listeners, GatewayState state, ILogger logger, string cluster, TelemetryHost telemetry)
    {
        _app = app;
        _telemetry = telemetry;
        _published = MeshMetrics.Publish(state.Stats);
        _listeners = listeners;
        State = state;
        _logger = logger;
        _cluster = cluster;
    }

    public GatewayState State { get; }

    /// <summary>The bound mTLS listener (port 0 resolved).</summary>
    public IPEndPoint ListenEndpoint => _listeners[0].BoundAddress();

    /// <summary>The bound admin listener (port 0 resolved).</summary>
    public IPEndPoint AdminEndpoint => (IPEndPoint)_listeners[1].EndPoint;

    /// <summary>The identity every gateway of <paramref name="cluster"/> holds.</summary>
    public static SpiffeId IdentityOf(string trustDomain, string cluster) =>
        new(trustDomain, cluster, IdentityDefaults.SystemNamespace, GatewayDefaults.ServiceAccount);

    public static Task<GatewayRuntime> StartAsync(GatewayOptions options, string token, ILoggerFactory loggers,
        TimeProvider time, CancellationToken cancellationToken) =>
        StartAsync(options, CertifyToken.Fixed(token), loggers, time, cancellationToken);

    /// <summary>As the string overload, presenting <paramref name="token"/> read afresh on every Certify (a rotated projected token).</summary>
    public static async Task<GatewayRuntime> StartAsync(GatewayOptions options, CertifyToken token, ILoggerFactory loggers,
        TimeProvider time, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger("FedMesh.Gateway");
        var state = new GatewayState();
        var runtime = Build(options, state, loggers, time, logger);
        try
        {
            await runtime._app.StartAsync(cancellationToken).ConfigureAwait(false);
            state.ListenerBound = true;
            GatewayLog.Listening(logger, options.Cluster, runtime.ListenEndpoint.ToString(), runtime.AdminEndpoint.ToString());
            await runtime.ConnectAsync(options, token, time, loggers, cancellationToken).ConfigureAwait(false);
            DataPlaneMemory.ReleaseStartupGarbage();
            return runtime;
        }
        catch
        {
            await runtime.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static GatewayRuntime Build(GatewayOptions options, GatewayState state, ILoggerFactory loggers, TimeProvider time, ILogger logger)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = GatewayDefaults.ShutdownTimeout);
        builder.Services.AddMeshForwarder();
        builder.Services.AddTlsTransport();
        var listeners = new ListenOptions[2];
        GatewayRelay? relay = null; // made with the handler, after the app is built; connections come only after that
        GatewayHttp2Relay? http2Relay = null;
        var tls = new PeerTls(() => state.Identity, time, logger);
        builder.WebHost.UseKestrelCore().UseDataPlaneSockets().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.KeepAliveTimeout = DataPlaneKestrel.MeshListenerKeepAlive;
            // HTTP/1.1 and HTTP/2 by ALPN, TLS run by our transport rather than Kestrel's HTTPS middleware.
            kestrel.ListenTls(IPEndPoint.Parse(options.Listen), tls.HandshakeOptions(), bound: listen =>
            {
                listeners[0] = listen;
                listen.UseRelay(() => relay); // the HTTP/1.1 half: plain forwards relayed as bytes, ahead of Kestrel
            }, http2: listen => listen.UseHttp2Relay(() => http2Relay)); // the HTTP/2 half: every stream relayed on our own HTTP/2
            kestrel.Listen(IPEndPoint.Parse(options.AdminListen), listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                ListenerDispatch.MarkAdmin(listen);
                listeners[1] = listen;
            });
        });
        var app = builder.Build();
        var telemetry = TelemetryHost.Start("fedmesh-gateway", options.Cluster, NodeId(options.Cluster), TelemetrySettings.FromEnvironment());
        telemetry.MapMetrics(app, ListenerDispatch.IsAdmin);
        var handler = new GatewayHandler(state, app.Services.GetRequiredService<MeshForwarder>(), state.Stats, options.Cluster, options.TrustDomain, logger);
        var limits = app.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        relay = new GatewayRelay(handler, limits.KeepAliveTimeout, limits.RequestHeadersTimeout);
        http2Relay = Http2Relay.Enabled ? new GatewayHttp2Relay(handler) : null;
        app.Run(new ListenerDispatch(handler, new AdminHandler(state)).HandleAsync);
        return new GatewayRuntime(app, listeners, state, logger, options.Cluster, telemetry);
    }

    private async Task ConnectAsync(GatewayOptions options, CertifyToken token, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var identity = await WorkloadIdentity.ObtainAsync(options.Controller, IdentityOf(options.TrustDomain, options.Cluster),
            token, time, loggers.CreateLogger("FedMesh.Gateway.Identity"), cancellationToken).ConfigureAwait(false);
        _identity = identity;
        _clients = new PeerClientPool(identity, time, GatewayDefaults.RetiredClientGrace, (ssl, expected) => PeerHandler.CreateClient(ssl, GatewayDefaults.ConnectTimeout,
            PeerHandler.MeshIdleTimeout, new ReverseProxyPropagator(DistributedContextPropagator.Current), time, expected));
        var updater = new RouteUpdater(State, new GatewayRoutesBuilder(options.Cluster, _clients, _logger), _logger);
        identity.Renewed += _ => updater.Rebuild();
        State.Identity = identity;
        var node = new Node
        {
            Id = NodeId(options.Cluster),
            Cluster = options.Cluster,
            Kind = NodeKind.Gateway,
        };
        _discovery = new DiscoveryClient(options.Controller, node, loggers.CreateLogger("FedMesh.Gateway.Discovery"), time);
        _discovery.Updated += updater.Apply;
        _discovery.Start();
        _reporter = new StatsReporter(options.Controller, node, State.Stats, loggers.CreateLogger("FedMesh.Gateway.Stats"), time);
        _reporter.Start();
    }

    private static string NodeId(string cluster) => $"{cluster}-gateway-{Environment.ProcessId}";

    public async ValueTask DisposeAsync()
    {
        State.ListenerBound = false;
        using (var stopping = new CancellationTokenSource(GatewayDefaults.ShutdownTimeout))
        {
            try
            {
                await _app.StopAsync(stopping.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }
        if (_reporter is not null)
        {
            await _reporter.DisposeAsync().ConfigureAwait(false);
        }
        if (_discovery is not null)
        {
            await _discovery.DisposeAsync().ConfigureAwait(false);
        }
        await _app.DisposeAsync().ConfigureAwait(false);
        _clients?.Dispose();
        _identity?.Dispose();
        _published.Dispose();
        _telemetry.Dispose();
        GatewayLog.Stopped(_logger, _cluster);
    }
}
