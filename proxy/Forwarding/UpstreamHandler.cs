using System.Diagnostics;
using System.Net;
using System.Net.Security;
using FedMesh.Proxy.Configuration;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>The handler of the proxy's pooled client to one upstream (a peer workload or a remote gateway).</summary>
internal static class UpstreamHandler
{
    public static HttpMessageHandler Create(SslClientAuthenticationOptions ssl) => new SocketsHttpHandler
    {
        UseProxy = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        UseCookies = false,
        EnableMultipleHttp2Connections = true,
        ConnectTimeout = ProxyDefaults.ConnectTimeout,
        KeepAlivePingDelay = TimeSpan.FromSeconds(30),
        KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
        KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
        SslOptions = ssl,
        // The outbound span (when tracing) replaces the app's traceparent; otherwise it passes through.
        ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
    };
}
