using System.Diagnostics;
using System.Net;
using System.Net.Security;

namespace FedMesh.Core.Identity;

/// <summary>
/// The handler of a pooled mTLS client to a mesh peer (<see cref="PeerClientPool"/>): the proxy's to its upstreams,
/// the gateway's to its cluster's workloads. No proxy, redirects, cookies or decompression: requests pass as sent.
/// </summary>
public static class PeerHandler
{
    private static readonly TimeSpan KeepAlivePingDelay = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan KeepAlivePingTimeout = TimeSpan.FromSeconds(10);

    /// <param name="ssl">The TLS options that present our certificate and pin the peer's identity.</param>
    /// <param name="pooledConnectionIdleTimeout">How long an idle connection is kept; null keeps the handler's default.</param>
    /// <param name="propagator">Writes the trace headers: the caller's span (when tracing) replaces the app's traceparent; otherwise it passes through.</param>
    public static HttpMessageHandler Create(SslClientAuthenticationOptions ssl, TimeSpan connectTimeout, TimeSpan? pooledConnectionIdleTimeout,
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
            SslOptions = ssl,
            ActivityHeadersPropagator = propagator,
        };
        if (pooledConnectionIdleTimeout is { } idle)
            handler.PooledConnectionIdleTimeout = idle;
        return handler;
    }
}
