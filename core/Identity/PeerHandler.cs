using System.Diagnostics;
using System.Net;
using System.Net.Security;
using FedMesh.Core.Forwarding;

namespace FedMesh.Core.Identity;

/// <summary>
/// A pooled mTLS client to a mesh peer (<see cref="PeerClientPool"/>): the proxy's to its upstreams, the gateway's to
/// its cluster's workloads. A <see cref="MeshClient"/>: HTTP/1.1 requests go on its own connections, the rest through
/// its handler. No proxy, redirects, cookies or decompression: requests pass as sent.
/// </summary>
public static class PeerHandler
{
    /// <summary>
    /// How long an idle pooled connection between mesh parts (proxy to peer or gateway, gateway to workload) is kept.
    /// An mTLS handshake costs about 3 ms of CPU on the two sides, and a burst on a pool that closed its connections
    /// pays it many times over at once (tens of ms at p99, bench/dataplane), so a lull of a few minutes should not
    /// empty the pool. The listeners keep idle connections longer (<see cref="Common.DataPlaneKestrel.MeshListenerKeepAlive"/>),
    /// so the caller, which knows when a connection is idle, is the one that closes it.
    /// </summary>
    public static readonly TimeSpan MeshIdleTimeout = TimeSpan.FromMinutes(4);

    private static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(10);

    /// <param name="ssl">The TLS options that present our certificate and pin the peer's identity; null for plain HTTP (the app).</param>
    /// <param name="pooledConnectionIdleTimeout">How long an idle connection is kept; null keeps the handler's default.</param>
    /// <param name="propagator">Writes the trace headers: the caller's span (when tracing) replaces the app's traceparent; otherwise it passes through.</param>
    /// <param name="expectedIdentity">The identity <paramref name="ssl"/> pins; with each upstream address it names the TLS sessions that may resume.</param>
    public static MeshClient CreateClient(SslClientAuthenticationOptions? ssl, TimeSpan connectTimeout, TimeSpan? pooledConnectionIdleTimeout,
        DistributedContextPropagator propagator, TimeProvider time, string? expectedIdentity = null) =>
        new(Create(ssl, connectTimeout, pooledConnectionIdleTimeout, propagator), ssl, propagator, time, expectedIdentity);

    /// <summary>The handler alone (HTTP/2, upgrades), as <see cref="CreateClient"/> wraps it.</summary>
    private static SocketsHttpHandler Create(SslClientAuthenticationOptions? ssl, TimeSpan connectTimeout, TimeSpan? pooledConnectionIdleTimeout,
        DistributedContextPropagator propagator)
    {
        var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ConnectTimeout = connectTimeout,
            KeepAlivePingDelay = KeepAlivePingDelay,
            KeepAlivePingTimeout = KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            ActivityHeadersPropagator = propagator,
        };
        if (ssl is not null)
            handler.SslOptions = WithoutResumption(ssl);
        if (pooledConnectionIdleTimeout is { } idle)
            handler.PooledConnectionIdleTimeout = idle;
        return handler;
    }

    // The handler names a connection's TLS after the request's Host (the app's authority, a service name), which the
    // runtime would also make the session key: one service's session offered to all its endpoints, and across the
    // identities expected of them. Its connections are multiplexed HTTP/2 and few; they keep full handshakes.
    private static SslClientAuthenticationOptions WithoutResumption(SslClientAuthenticationOptions ssl)
    {
        if (!ssl.AllowTlsResume)
            return ssl;
        var copy = ClientTlsOptions.Copy(ssl);
        copy.AllowTlsResume = false;
        return copy;
    }
}
