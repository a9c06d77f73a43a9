using System.Diagnostics;
using System.Text;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Core.Telemetry;
using FedMesh.Gateway.Routing;
using FedMesh.Gateway.Security;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Gateway.Forwarding;

/// <summary>
/// The mTLS listener's HTTP/2 relay: every stream of a peer's HTTP/2 connection is decided as Kestrel's way decides it
/// (<see cref="GatewayHandler.Decide"/>); a forward is relayed on our own HTTP/2 to the chosen endpoint with the peer's
/// SPIFFE id as its caller and counted as the handler counts it, and every other verdict gets the handler's own answer.
/// </summary>
internal sealed class GatewayHttp2Relay(GatewayHandler handler)
    : Http2Relay(MeshTracing.GatewaySpan, ActivityKind.Server, GatewayDefaults.UpstreamActivityTimeout)
{
    /// <summary>A stream's service, endpoint and calling cluster, for counting it when it ends.</summary>
    private sealed record Exchange(GatewayService Service, GatewayEndpoint Endpoint, string CallerCluster);

    protected override string FailureCode => ErrorResponse.UpstreamUnavailable;

    protected override bool TryRoute(ConnectionContext connection, in Http2RelayRequest request, out RelayTarget target, out RelayAnswer answer)
    {
        target = default;
        answer = default;
        var peer = ConnectionPeer.Of(connection.Items) ?? throw new InvalidOperationException("a gateway connection without its TLS peer");
        Span<char> host = stackalloc char[Math.Min(request.Authority.Length, 1024)];
        Encoding.ASCII.GetChars(request.Authority[..host.Length], host);
        var verdict = handler.Decide(peer, host, GatewayHandler.IsProbe(request.Path), out _, out var service, out var endpoint);
        if (verdict != GatewayHandler.Verdict.Forward)
        {
            answer = handler.Answer(verdict, peer, host, service);
            return false;
        }
        if (endpoint!.Client is not MeshClient client)
        {
            answer = new RelayAnswer(502, ErrorResponse.UpstreamUnavailable,
                Encoding.UTF8.GetBytes($"endpoint {endpoint.Address} of service '{service!.DisplayName}' has no client for relayed HTTP/2\n"));
            return false;
        }
        target = new RelayTarget(client, endpoint.Prefix, peer.IdText, new Exchange(service!, endpoint, peer.Id!.Cluster));
        return true;
    }

    protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span)
    {
        var exchange = (Exchange)target.State!;
        var cell = handler.Count(exchange.Service, exchange.CallerCluster, status, started);
        MeshTracing.Complete(span, cell.Key, status);
        return error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
            ? []
            : handler.Failed(exchange.Service, exchange.Endpoint, error, exception);
    }
}
