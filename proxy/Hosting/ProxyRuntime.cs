using System.Diagnostics;
using System.Net;
using FedMesh.Core.Common;
using FedMesh.Core.Discovery;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Core.Identity;
using FedMesh.Core.Store;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Admin;
using FedMesh.Proxy.Configuration;
using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.Inbound;
using FedMesh.Proxy.Registration;
using FedMesh.Proxy.Resilience;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Proxy.Hosting;

/// <summary>
/// One running proxy: admin listener first (so /ready can say what it waits for), then identity,
/// the first discovery snapshot, the inbound and outbound listeners; then, in the background,
/// waits for the app and registers the endpoint. Stops in reverse: deregister, drain, dispose.
/// </summary>
internal sealed partial class ProxyRuntime : IAsyncDisposable
{
    // Cleartext HTTP/1.1 and HTTP/2 with prior knowledge (gRPC) on the one outbound port, told apart by
    // their first bytes (CleartextProtocolDetection): Kestrel alone would pick HTTP/1.1 for both.
    private const HttpProtocols OutboundProtocols = HttpProtocols.Http1AndHttp2;

    private readonly ProxyOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Func<ProxyOptions, IClusterStore>? _storeFactory;
    private readonly CancellationTokenSource _backgroundStop = new();
    private Listener? _admin, _inbound, _outbound;
    private WorkloadIdentity? _identity;
    private DiscoveryClient? _discovery;
    private StatsReporter? _reporter;
    private TelemetryHost? _telemetry;
    private IDisposable? _published;
    private PeerClientPool? _clients;
    private RoutingState? _routing;
    private readonly ResilienceOptions _resilience = new ResilienceOptions().Validated();
    private HttpMessageInvoker? _appClient;
    private IClusterStore? _store;
    private EndpointRegistrar? _registrar;
    private Task _background = Task.CompletedTask;
    private volatile bool _registered;
    private int _stopped;

    public ProxyRuntime(ProxyOptions options, ILoggerFactory loggerFactory, TimeProvider time, Func<ProxyOptions, IClusterStore>? storeFactory = null)
    {
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger("FedMesh.Proxy");
        _time = time;
        _storeFactory = storeFactory;
        Readiness = new ReadinessGate(!string.IsNullOrEmpty(options.Store), options.App, options.Controller);
    }

    public ReadinessGate Readiness { get; }

    /// <summary>What this proxy's outbound requests saw, reported to the controller every second.</summary>
    public RequestStatsRecorder Stats { get; } = new();

    public IPEndPoint AdminEndpoint => _admin?.BoundEndpoint ?? throw NotStarted();
    public IPEndPoint InboundEndpoint => _inbound?.BoundEndpoint ?? throw NotStarted();
    public IPEndPoint OutboundEndpoint => _outbound?.BoundEndpoint ?? throw NotStarted();
    public RoutingState Routing => _routing ?? throw NotStarted();
    public WorkloadIdentity Identity => _identity ?? throw NotStarted();

    /// <summary>Completes when the proxy is ready (app answered, endpoint registered), or faults.</summary>
    public Task Background => _background;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _telemetry = TelemetryHost.Start("fedmesh-proxy", _options.Cluster, _options.Instance, TelemetrySettings.FromEnvironment());
        _published = MeshMetrics.Publish(Stats);
        _admin = Listener.Create(Parse(_options.AdminListen), HttpProtocols.Http1, _loggerFactory,
            _ => new AdminHandler(Readiness, () => _routing?.Applied).HandleAsync, configurePipeline: app => _telemetry.MapMetrics(app, static _ => true));
        await _admin.StartAsync(cancellationToken).ConfigureAwait(false);

        var id = SpiffeId.Create(_options.TrustDomain, _options.Cluster, _options.Namespace, _options.EffectiveServiceAccount);
        _identity = await ObtainIdentityAsync(id, cancellationToken).ConfigureAwait(false);
        Readiness.Complete(ReadinessStep.Identity);

        _clients = new PeerClientPool(_identity, _time, ProxyDefaults.RetiredClientGrace, (ssl, expected) => PeerHandler.CreateClient(ssl, ProxyDefaults.ConnectTimeout,
            PeerHandler.MeshIdleTimeout, new ReverseProxyPropagator(DistributedContextPropagator.Current), _time, expected));
        var states = new EndpointStateRegistry(new AccrualSettings(_resilience, _time, Random.Shared), _time);
        _routing = new RoutingState(_options.Namespace, _identity, _clients, Stats, states, Random.Shared, _time, _logger);
        var node = new Proto.Node
        {
            Id = _options.Instance,
            Cluster = _options.Cluster,
            Kind = Proto.NodeKind.Proxy,
            Namespace = _options.Namespace,
            Service = _options.Service,
        };
        _discovery = new DiscoveryClient(_options.Controller, node, _loggerFactory.CreateLogger<DiscoveryClient>(), _time);
        _reporter = new StatsReporter(_options.Controller, node, Stats, _loggerFactory.CreateLogger<StatsReporter>(), _time);
        _reporter.Start();
        _discovery.Updated += _routing.Apply;
        _discovery.Start();
        ProxyLog.WaitingForSnapshot(_logger, _options.Controller);
        await _discovery.WaitForFirstAsync(cancellationToken).ConfigureAwait(false);
        _routing.ApplyIfFirst(_discovery.Current!);
        Readiness.Complete(ReadinessStep.Snapshot);

        await StartTrafficListenersAsync(cancellationToken).ConfigureAwait(false);
        Readiness.Complete(ReadinessStep.Listeners);
        ProxyLog.Started(_logger, _options.Instance, id.ToString(), OutboundEndpoint.ToString(), InboundEndpoint.ToString(), AdminEndpoint.ToString());

        if (!string.IsNullOrEmpty(_options.Store))
        {
            _store = _storeFactory is not null ? _storeFactory(_options) : CreateLocalStore(_options);
            _registrar = new EndpointRegistrar(_store, _options, id.ToString(), InboundEndpoint.ToString(), _time, _logger);
        }
        _background = BecomeReadyAsync(_backgroundStop.Token);
    }

    private async Task StartTrafficListenersAsync(CancellationToken cancellationToken)
    {
        var appPrefix = _options.App.TrimEnd('/');
        // Plain HTTP to the app. The inbound span (when tracing) replaces the caller's traceparent; otherwise it passes through.
        _appClient = PeerHandler.CreateClient(null, ProxyDefaults.ConnectTimeout, pooledConnectionIdleTimeout: null,
            new ReverseProxyPropagator(DistributedContextPropagator.Current), _time);
        var tls = new InboundTls(_identity!, _time, _logger);
        InboundHandler? inbound = null;
        _inbound = Listener.Create(Parse(_options.Inbound), HttpProtocols.Http1AndHttp2, _loggerFactory,
            sp => (inbound = new InboundHandler(sp.GetRequiredService<MeshForwarder>(), _appClient, appPrefix, _options.AppProtocol, _options.Cluster,
                new LogThrottle(_time, TimeSpan.FromSeconds(5)), _logger)).HandleAsync,
            tls.ListenOptions(), keepAlive: DataPlaneKestrel.MeshListenerKeepAlive, relay: (idle, head) => inbound!.Relay(idle, head),
            http2Relay: () => Http2Relay.Enabled ? inbound!.Http2Relay() : null);
        await _inbound.StartAsync(cancellationToken).ConfigureAwait(false);

        var errors = new ProxyErrorWriter(_options.Cluster, _logger);
        ResilientForwarder? resilient = null;
        _outbound = Listener.Create(Parse(_options.Outbound), OutboundProtocols, _loggerFactory,
            sp => new OutboundHandler(_routing!, resilient = new ResilientForwarder(sp.GetRequiredService<MeshForwarder>(), _resilience,
                new RetryBudget(_resilience, _time), _time, _routing!.CurrentRouteOf), errors).HandleAsync,
            allowHostOverride: true, relay: (idle, head) => new OutboundRelay(_routing!, resilient!, errors, _resilience, idle, head),
            http2Relay: () => Http2Relay.Enabled ? new OutboundHttp2Relay(_routing!, resilient!, errors, _resilience) : null);
        await _outbound.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task BecomeReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await AppProbe.WaitUntilReachableAsync(new Uri(_options.App), _time, cancellationToken).ConfigureAwait(false);
            Readiness.Complete(ReadinessStep.App);
            if (_registrar is not null)
            {
                await _registrar.RegisterAsync(cancellationToken).ConfigureAwait(false);
                _registered = true;
                Readiness.Complete(ReadinessStep.Registration);
            }
            ProxyLog.Ready(_logger);
            DataPlaneMemory.ReleaseStartupGarbage();
            if (_registrar is not null)
                await new AppReadinessWatcher(new Uri(_options.App), _registrar).RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits (retrying inside) for the controller to sign our certificate; a refusal (bad token) is fatal.</summary>
    private Task<WorkloadIdentity> ObtainIdentityAsync(SpiffeId id, CancellationToken cancellationToken) =>
        // The file is read on every Certify: on Kubernetes it is a projected service-account token the kubelet rotates.
        WorkloadIdentity.ObtainAsync(_options.Controller, id, CertifyToken.FromFile(_options.TokenFile), _time,
            _loggerFactory.CreateLogger<WorkloadIdentity>(), cancellationToken);

    private static IPEndPoint Parse(string listen)
        => ProxyOptionsValidator.TryParseListen(listen, out var endpoint) ? endpoint! : throw new ArgumentException($"'{listen}' is not an ip:port listen address");

    private static InvalidOperationException NotStarted() => new("the proxy has not started");
}
