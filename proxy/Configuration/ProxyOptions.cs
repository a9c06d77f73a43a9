using FedMesh.Core.Common;

namespace FedMesh.Proxy.Configuration;

/// <summary>
/// Everything one workload proxy needs, bound from the command line
/// (<c>--Cluster east --Service echo --Outbound 127.0.0.1:7101 ...</c>).
/// Validated once, at start, by <see cref="ProxyOptionsValidator"/>.
/// </summary>
public sealed class ProxyOptions
{
    /// <summary>The cluster this workload runs in. Required.</summary>
    public string Cluster { get; set; } = "";

    /// <summary>The federation's SPIFFE trust domain. Default <c>fedmesh.local</c>.</summary>
    public string TrustDomain { get; set; } = ProxyDefaults.TrustDomain;

    /// <summary>The workload's namespace; also the namespace of bare service names. Default <c>default</c>.</summary>
    public string Namespace { get; set; } = ProxyDefaults.Namespace;

    /// <summary>The workload's service name. Required.</summary>
    public string Service { get; set; } = "";

    /// <summary>The workload instance name, unique in the cluster; also the discovery node id. Required.</summary>
    public string Instance { get; set; } = "";

    /// <summary>The service account in the workload's SPIFFE id. Defaults to <see cref="Service"/>.</summary>
    public string? ServiceAccount { get; set; }

    /// <summary>Zone the workload runs in, registered with its endpoint. Optional.</summary>
    public string? Zone { get; set; }

    /// <summary>Plain HTTP listener the application sends its outbound requests to (ip:port). Required.</summary>
    public string Outbound { get; set; } = "";

    /// <summary>mTLS listener peers and gateways reach this workload on (ip:port). Required.</summary>
    public string Inbound { get; set; } = "";

    /// <summary>Plain HTTP admin listener serving <c>/ready</c> and <c>/live</c> (ip:port). Required.</summary>
    public string AdminListen { get; set; } = "";

    /// <summary>The application's own plain HTTP address, e.g. <c>http://127.0.0.1:7100</c>. Required.</summary>
    public string App { get; set; } = "";

    /// <summary>
    /// How the inbound listener speaks to the app: <c>auto</c> (default) in the caller's protocol, so HTTP/2
    /// (gRPC) reaches the app as HTTP/2 with prior knowledge (h2c) and HTTP/1.1 as HTTP/1.1; <c>http1</c>
    /// always HTTP/1.1 (an app that cannot speak h2c); <c>http2</c> always h2c (a gRPC-only app).
    /// </summary>
    public string AppProtocol { get; set; } = AppProtocols.Auto;

    /// <summary>The cluster controller (discovery and identity), e.g. <c>http://127.0.0.1:7000</c>. Required.</summary>
    public string Controller { get; set; } = "";

    /// <summary>File holding the cluster's bootstrap token, presented when asking for a certificate. Required.</summary>
    public string TokenFile { get; set; } = "";

    /// <summary>
    /// The cluster's local store directory. When set (local federation), the proxy registers its
    /// endpoint there once the app answers, and removes it on shutdown.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>The effective service account: <see cref="ServiceAccount"/> or, when empty, <see cref="Service"/>.</summary>
    public string EffectiveServiceAccount => string.IsNullOrEmpty(ServiceAccount) ? Service : ServiceAccount;
}

/// <summary>Defaults and limits of the proxy, in one place.</summary>
public static class ProxyDefaults
{
    /// <summary>Default trust domain.</summary>
    public const string TrustDomain = "fedmesh.local";

    /// <summary>Default workload namespace.</summary>
    public const string Namespace = "default";

    /// <summary>Connect timeout for upstream connections.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a retired upstream client keeps serving in-flight requests before it is disposed.</summary>
    public static readonly TimeSpan RetiredClientGrace = TimeSpan.FromSeconds(30);

    /// <summary>First and largest delay between attempts to reach the app or the store.</summary>
    public static readonly TimeSpan RetryInitialDelay = TimeSpan.FromMilliseconds(50);

    /// <inheritdoc cref="RetryInitialDelay"/>
    public static readonly TimeSpan RetryMaxDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// After removing the endpoint on shutdown, how long the inbound listener keeps accepting, so peers
    /// still routing by the previous snapshot are served while the controller pushes the new one.
    /// </summary>
    public static readonly TimeSpan DeregisterPropagation = TimeSpan.FromMilliseconds(500);

    /// <summary>Time allowed for removing the endpoint from the store on shutdown.</summary>
    public static readonly TimeSpan DeregisterTimeout = TimeSpan.FromSeconds(5);
}
