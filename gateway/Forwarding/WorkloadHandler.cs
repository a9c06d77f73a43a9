using System.Diagnostics;
using System.Net;
using System.Net.Security;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Gateway.Forwarding;

/// <summary>The handler of the gateway's pooled client to one workload identity of its cluster.</summary>
internal static class WorkloadHandler
{
    public static HttpMessageHandler Create(SslClientAuthenticationOptions ssl) => new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = GatewayDefaults.ConnectTimeout,
        PooledConnectionIdleTimeout = GatewayDefaults.PooledConnectionIdleTimeout,
        KeepAlivePingDelay = GatewayDefaults.KeepAlivePingDelay,
        KeepAlivePingTimeout = GatewayDefaults.KeepAlivePingTimeout,
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        // The gateway's span (when tracing) replaces the caller's traceparent; otherwise it passes through.
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
        SslOptions = ssl,
    };
}
