using System.Diagnostics;
using System.Text;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Resilience;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// The outbound listener's HTTP/2 relay (h2c callers, gRPC among them): each stream is routed and attempted as
/// <see cref="OutboundRelay"/> routes and attempts an HTTP/1.1 request (the route's policy and balancer choose the
/// endpoint, the <see cref="ResilientForwarder"/> decides each retry and holds back a 5xx that will be retried, every
/// attempt is counted and feeds the endpoint's load and failure accrual), with the endpoint's Host rewrite, our
/// identity as the caller, <c>x-fedmesh-upstream-cluster</c> on the response, the outbound span and the same error
/// answers. A request may be sent again when it is idempotent or marked retryable and has no body, or a declared one
/// of at most <see cref="Http11Relay.MaxReplayableBody"/> (kept until its response is accepted).
/// </summary>
internal sealed class OutboundHttp2Relay(RoutingState routing, ResilientForwarder forwarder, ProxyErrorWriter errors, ResilienceOptions options)
    : Http2Relay(MeshTracing.ProxyOutboundSpan, ActivityKind.Client, MeshForwarder.DefaultActivityTimeout)
{
    protected override string FailureCode => ProxyErrorWriter.UpstreamUnavailable;

    protected override bool TryRoute(ConnectionContext connection, in Http2RelayRequest request, out RelayTarget target, out RelayAnswer answer)
    {
        target = default;
        answer = default;
        if (request.Method.SequenceEqual("CONNECT"u8))
        {
            answer = errors.TunnelRefusedAnswer(); // the mesh adds TLS itself: apps send plain requests, never tunnels
            return false;
        }
        if (request.Authority.IsEmpty)
        {
            answer = errors.MissingHostAnswer();
            return false;
        }
        var table = routing.Current;
        Span<char> host = stackalloc char[Math.Min(request.Authority.Length, OutboundRelay.MaxHost)];
        Encoding.ASCII.GetChars(request.Authority[..host.Length], host);
        if (request.Authority.Length > OutboundRelay.MaxHost || !table.TryFind(host, out var route))
        {
            answer = errors.UnknownServiceAnswer(table, Encoding.ASCII.GetString(request.Authority));
            return false;
        }
        var maxBody = Math.Min(options.MaxBufferedBody, Http11Relay.MaxReplayableBody);
        var retryable = OutboundRelay.MayRetry(options, request.Method, request.Field(OutboundRelay.RetryableHeader))
            && (!request.HasBody || request.ContentLength is >= 0 and var length && length <= maxBody);
        object? started = null;
        if (forwarder.BeginRelayed(ref started, route!, retryable) is not { } forward)
        {
            var unstarted = (ForwardRequest)started!;
            answer = unstarted.Endpoint is null
                ? errors.NoEndpointsAnswer(route!.Self, unstarted.Backend)
                : new RelayAnswer(502, ProxyErrorWriter.UpstreamUnavailable,
                    errors.Body($"endpoint {unstarted.Endpoint.Address} of service '{unstarted.Backend.DisplayName}' has no client for relayed HTTP/2"));
            unstarted.Release();
            return false;
        }
        target = OutboundRelay.Target(forward, retryable);
        return true;
    }

    protected override bool AcceptResponse(in RelayTarget target, int status) => OutboundRelay.Accepts(target, status);

    protected override bool TryRetry(ref RelayTarget target, int status, ForwarderError error, Exception? exception) =>
        OutboundRelay.Retries(forwarder, ref target, status, error, exception);

    protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span) =>
        OutboundRelay.Complete(forwarder, errors, target, status, error, exception, span);
}
