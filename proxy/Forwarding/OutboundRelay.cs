using System.Diagnostics;
using System.Text;
using FedMesh.Core.Common;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Resilience;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// The outbound listener's HTTP/1.1 relay: a plain request for a known service is relayed as bytes to the endpoint
/// the route's policy and balancer choose, with the same attempts as <see cref="OutboundHandler"/>'s way (the
/// <see cref="ResilientForwarder"/> decides each retry and holds back a 5xx that will be retried, every attempt is
/// counted and feeds the endpoint's load and failure accrual), the endpoint's Host rewrite, our identity as the
/// caller, <c>x-fedmesh-upstream-cluster</c> on the response, the outbound span and the same error answers. What
/// the relay does not take (an unknown service, no endpoint, HTTP/2, a body too large to send again for a retryable
/// request...) goes to <see cref="OutboundHandler"/>.
/// </summary>
internal sealed class OutboundRelay(RoutingState routing, ResilientForwarder forwarder, ProxyErrorWriter errors, ResilienceOptions options,
    TimeSpan keepAlive, TimeSpan headTimeout)
    : Http11Relay(MeshTracing.ProxyOutboundSpan, ActivityKind.Client, MeshForwarder.DefaultActivityTimeout, keepAlive, headTimeout)
{
    /// <summary>The longest Host either outbound relay looks up (shared with <see cref="OutboundHttp2Relay"/>).</summary>
    internal const int MaxHost = 512;

    internal static readonly byte[] RetryableHeader = Encoding.ASCII.GetBytes(ResilienceDefaults.RetryableHeader);

    protected override string FailureCode => ProxyErrorWriter.UpstreamUnavailable;

    protected override bool TryRoute(ConnectionContext connection, ref object? reusable, in RelayRequest request, out RelayTarget target)
    {
        target = default;
        if (request.Host.Length > MaxHost)
            return false;
        Span<char> host = stackalloc char[request.Host.Length];
        Encoding.ASCII.GetChars(request.Host, host);
        if (!routing.Current.TryFind(host, out var route))
            return false; // Kestrel's way names the known services
        var retryable = MayRetry(options, request.Method, request.TryGetField(RetryableHeader, out var marked) ? marked : default)
            && request.ContentLength <= options.MaxBufferedBody;
        if (retryable && request.ContentLength > MaxReplayableBody)
            return false; // buffered for retries on Kestrel's way
        if (forwarder.BeginRelayed(ref reusable, route!, retryable) is not { } forward)
            return false; // no endpoint: Kestrel's way answers
        target = Target(forward, retryable);
        return true;
    }

    /// <summary>Where the current attempt of <paramref name="request"/> goes; the request is the target's state.</summary>
    internal static RelayTarget Target(ForwardRequest request, bool replayable)
    {
        var endpoint = request.Endpoint!;
        return new RelayTarget((MeshClient)endpoint.Invoker, endpoint.DestinationPrefix, endpoint.Transformer.CallerIdentity, request)
        {
            Host = endpoint.Transformer.HostRewrite,
            ResponseField = endpoint.ClusterField,
            Abandoned = endpoint.State.Evicted,
            Replayable = replayable,
        };
    }

    protected override bool AcceptResponse(in RelayTarget target, int status) => Accepts(target, status);

    protected override bool TryRetry(ref RelayTarget target, int status, ForwarderError error, Exception? exception) =>
        Retries(forwarder, ref target, status, error, exception);

    protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span) =>
        Complete(forwarder, errors, target, status, error, exception, span);

    // The attempts' accounting, shared with the HTTP/2 relay (OutboundHttp2Relay).

    /// <summary>A 5xx that will be retried elsewhere is dropped before anything reaches the client, as UpstreamTransformer does.</summary>
    internal static bool Accepts(in RelayTarget target, int status) =>
        status < 500 || !((ForwardRequest)target.State!).TryHoldBack(status);

    internal static bool Retries(ResilientForwarder forwarder, ref RelayTarget target, int status, ForwarderError error, Exception? exception)
    {
        var request = (ForwardRequest)target.State!;
        request.LastException = exception;
        if (!forwarder.ContinueRelayed(request, error, status))
        {
            request.RelayAccounted = true;
            return false;
        }
        target = Target(request, replayable: true);
        return true;
    }

    internal static byte[] Complete(ResilientForwarder forwarder, ProxyErrorWriter errors, in RelayTarget target, int status, ForwarderError error,
        Exception? exception, Activity? span)
    {
        var request = (ForwardRequest)target.State!;
        try
        {
            if (!request.RelayAccounted)
                forwarder.EndRelayed(request, error, status);
            MeshTracing.Complete(span, request.Route.StatsCell(request.Backend, request.Endpoint!).Key, error == ForwarderError.None ? status : 502);
            var failure = request.Error; // after an eviction, a plain failure rather than the abandonment
            if (error == ForwarderError.None || failure is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
                return [];
            return errors.Body(errors.UpstreamFailed(request.Backend, request.Endpoint!, failure, exception ?? request.LastException));
        }
        finally
        {
            request.Release(); // kept for the connection's next request: nothing of this one stays reachable
        }
    }

    private static bool IsIdempotent(ReadOnlySpan<byte> method) => method.Length switch
    {
        3 => Ascii.EqualsIgnoreCase(method, "GET"u8) || Ascii.EqualsIgnoreCase(method, "PUT"u8),
        4 => Ascii.EqualsIgnoreCase(method, "HEAD"u8),
        5 => Ascii.EqualsIgnoreCase(method, "TRACE"u8),
        6 => Ascii.EqualsIgnoreCase(method, "DELETE"u8),
        7 => Ascii.EqualsIgnoreCase(method, "OPTIONS"u8),
        _ => false,
    };

    /// <summary>
    /// Whether the retry policy lets a request be sent again, its body aside: retries on, and an idempotent method or the
    /// app's <see cref="ResilienceDefaults.RetryableHeader"/> set to true (<paramref name="marked"/>, its value).
    /// </summary>
    internal static bool MayRetry(ResilienceOptions options, ReadOnlySpan<byte> method, ReadOnlySpan<byte> marked) =>
        options.MaxRetries > 0 && (IsIdempotent(method) || Ascii.EqualsIgnoreCase(marked, "true"u8));
}
