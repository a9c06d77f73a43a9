using System.Net;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// The protocol of the hop to a peer, a gateway or the app (unless its AppProtocol says otherwise): the caller's own. HTTP/1.1 requests go as HTTP/1.1 over
/// pooled mTLS connections, HTTP/2 (gRPC) as HTTP/2. Measured with bench/dataplane/run.sh: in .NET an
/// HTTP/2 response completes on a thread-pool thread, so at sidecar rates every request paid a thread
/// wake-up (about 90 µs of added median latency at 1,000 rps) that HTTP/1.1 does not.
/// </summary>
internal static class UpstreamVersion
{
    public static readonly ForwarderRequestConfig Http11 = new() { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
    public static readonly ForwarderRequestConfig Http2 = new() { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

    public static ForwarderRequestConfig For(HttpRequest request) => HttpProtocol.IsHttp2(request.Protocol) ? Http2 : Http11;
}
