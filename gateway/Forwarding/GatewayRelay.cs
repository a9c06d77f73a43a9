using System.Diagnostics;
using System.Text;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Telemetry;
using FedMesh.Gateway.Routing;
using FedMesh.Gateway.Security;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Gateway.Forwarding;

/// <summary>
/// The mTLS listener's HTTP/1.1 relay: a request <see cref="GatewayHandler.Decide"/> forwards is relayed as bytes to
/// the chosen endpoint, with the peer's SPIFFE id as its caller, and counted as the handler counts it. Every other
/// request (the gateway's own answers, refusals, and whatever the relay leaves to Kestrel) goes to the handler.
/// </summary>
/// <param name="keepAlive">The listener's keep-alive timeout; <paramref name="headTimeout"/> its request-head timeout.</param>
internal sealed class GatewayRelay(GatewayHandler handler, TimeSpan keepAlive, TimeSpan headTimeout)
    : Http11Relay(MeshTracing.GatewaySpan, ActivityKind.Server, GatewayDefaults.UpstreamActivityTimeout, keepAlive, headTimeout)
{

    /// <summary>A Host longer than this is left to Kestrel's way (no service name is that long).</summary>
    private const int MaxHost = 512;

    /// <summary>What <see cref="Completed"/> counts a request by; one per connection, set again for each request.</summary>
    private sealed class Exchange
    {
        public GatewayService Service { get; private set; } = null!;
        public GatewayEndpoint Endpoint { get; private set; } = null!;
        public string CallerCluster { get; private set; } = "";

        public Exchange Set(GatewayService service, GatewayEndpoint endpoint, string callerCluster)
        {
            Service = service;
            Endpoint = endpoint;
            CallerCluster = callerCluster;
            return this;
        }

        /// <summary>Once the request is counted: a connection idle between requests holds no service or endpoint.</summary>
        public void Clear()
        {
            Service = null!;
            Endpoint = null!;
            CallerCluster = "";
        }
    }

    protected override string FailureCode => ErrorResponse.UpstreamUnavailable;

    protected override bool TryRoute(ConnectionContext connection, ref object? reusable, in RelayRequest request, out RelayTarget target)
    {
        target = default;
        var path = request.Path;
        // A percent-encoded path may decode to the probe's: Kestrel's way decodes it.
        if (ConnectionPeer.Of(connection.Items) is not { } peer || request.Host.Length > MaxHost || path.Contains((byte)'%'))
            return false;
        Span<char> host = stackalloc char[request.Host.Length];
        Encoding.ASCII.GetChars(request.Host, host);
        if (handler.Decide(peer, host, GatewayHandler.IsProbe(path), out _, out var service, out var endpoint) != GatewayHandler.Verdict.Forward
            || endpoint!.Client is not MeshClient client)
            return false;
        var exchange = reusable as Exchange ?? (Exchange)(reusable = new Exchange());
        target = new RelayTarget(client, endpoint.Prefix, peer.IdText, exchange.Set(service!, endpoint, peer.Id!.Cluster));
        return true;
    }

    protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span)
    {
        var exchange = (Exchange)target.State!;
        try
        {
            var cell = handler.Count(exchange.Service, exchange.CallerCluster, status, started);
            MeshTracing.Complete(span, cell.Key, status);
            return error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
                ? []
                : handler.Failed(exchange.Service, exchange.Endpoint, error, exception);
        }
        finally
        {
            exchange.Clear();
        }
    }
}
