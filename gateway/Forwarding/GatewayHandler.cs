using System.Diagnostics;
using System.Net;
using System.Text;
using FedMesh.Core.Http2;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using FedMesh.Gateway.Hosting;
using FedMesh.Gateway.Routing;
using FedMesh.Gateway.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Gateway.Forwarding;

/// <summary>
/// The mTLS listener's request handler: admits verified peers of linked clusters, answers the probe, and forwards
/// requests for exported services to a healthy endpoint. Nothing that is refused reaches a backend.
/// </summary>
internal sealed class GatewayHandler(GatewayState state, IHttpForwarder forwarder, RequestStatsRecorder stats, string cluster, string trustDomain, ILogger logger)
{
    // The caller's protocol is kept on the hop to the workload, as the proxy keeps it (proxy/Forwarding/UpstreamVersion.cs).
    private static readonly ForwarderRequestConfig Http11Upstream = new()
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        ActivityTimeout = GatewayDefaults.UpstreamActivityTimeout,
    };

    private static readonly ForwarderRequestConfig Http2Upstream = new()
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        ActivityTimeout = GatewayDefaults.UpstreamActivityTimeout,
    };

    private static readonly byte[] ProbeBody = "ok\n"u8.ToArray();
    private static readonly byte[] ProbePath = Encoding.ASCII.GetBytes(WellKnown.GatewayProbePath);
    private static readonly byte[] MissingHostBody = "the request has no Host; name the service as <service>.<namespace>\n"u8.ToArray();
    private readonly CallerTransformer _transformer = new();
    private readonly byte[] _notReadyBody = Encoding.UTF8.GetBytes($"gateway of cluster {cluster} is starting: no discovery snapshot yet\n");
    private readonly byte[] _noPeerBody = "client certificate required\n"u8.ToArray();

    /// <summary>
    /// Whether a request target's path is the probe's, as Kestrel's way sees it (<see cref="WellKnown.GatewayProbePath"/>
    /// against its decoded Request.Path): the relays' check. A query after it does not change that, and its escapes are
    /// decoded but for an encoded '/', which Kestrel leaves as it came (it would change the path's segments).
    /// </summary>
    internal static bool IsProbe(ReadOnlySpan<byte> path)
    {
        var query = path.IndexOf((byte)'?');
        var part = query < 0 ? path : path[..query];
        if (part.IndexOf((byte)'%') < 0)
            return part.SequenceEqual(ProbePath);
        if (part.Length > 3 * ProbePath.Length)
            return false; // every byte of the probe's path, escaped, is three
        Span<byte> decoded = stackalloc byte[part.Length];
        var length = 0;
        for (var i = 0; i < part.Length; i++)
        {
            if (part[i] == (byte)'%' && i + 2 < part.Length
                && byte.TryParse(part.Slice(i + 1, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out var escaped) && escaped != '/')
            {
                decoded[length++] = escaped;
                i += 2;
            }
            else
                decoded[length++] = part[i];
        }
        return decoded[..length].SequenceEqual(ProbePath);
    }

    /// <summary>What the gateway does with a request, decided from its peer, Host and path alone.</summary>
    internal enum Verdict { Forward, NotReady, PeerRefused, NotLinked, Probe, MissingHost, NotExported, NoEndpoints }

    /// <summary>
    /// Decides a request: <see cref="Verdict.Forward"/> names the service and the endpoint it goes to; every other
    /// verdict is an answer of the gateway's own. Shared by Kestrel's way (<see cref="HandleAsync"/>) and the relay
    /// (<see cref="GatewayRelay"/>), which takes only the forwards.
    /// </summary>
    internal Verdict Decide(ConnectionPeer peer, ReadOnlySpan<char> host, bool probe, out GatewayRoutes? routes, out GatewayService? service,
        out GatewayEndpoint? endpoint)
    {
        service = null;
        endpoint = null;
        routes = state.Routes;
        if (routes is null)
            return Verdict.NotReady;
        var caller = peer.Id;
        if (caller is null)
            return Verdict.PeerRefused;
        if (!string.Equals(caller.TrustDomain, trustDomain, StringComparison.Ordinal) || !routes.IsLinked(caller.Cluster))
            return Verdict.NotLinked;
        if (probe)
            return Verdict.Probe;
        if (host.IsEmpty)
            return Verdict.MissingHost;
        service = routes.Find(host);
        if (service is null || !service.Reachable)
            return Verdict.NotExported;
        endpoint = service.Next();
        return endpoint is null ? Verdict.NoEndpoints : Verdict.Forward;
    }

    public Task HandleAsync(HttpContext context, ConnectionPeer peer)
    {
        var host = context.Request.Host.Value.AsSpan();
        var probe = context.Request.Path.Equals(WellKnown.GatewayProbePath, StringComparison.Ordinal);
        var verdict = Decide(peer, host, probe, out _, out var service, out var endpoint);
        if (verdict == Verdict.Forward)
            return ForwardAsync(context, service!, endpoint!, peer.Id!.Cluster);
        var answer = Answer(verdict, peer, host, service);
        return ErrorResponse.WriteAsync(context, answer.Status, answer.ErrorCode, answer.Body);
    }

    /// <summary>The gateway's own answer to a request it does not forward (every verdict but <see cref="Verdict.Forward"/>), logged as it goes.</summary>
    internal RelayAnswer Answer(Verdict verdict, ConnectionPeer peer, ReadOnlySpan<char> host, GatewayService? service)
    {
        switch (verdict)
        {
            case Verdict.NotReady:
                return new(StatusCodes.Status503ServiceUnavailable, ErrorResponse.NotReady, _notReadyBody);
            case Verdict.PeerRefused:
                return new(StatusCodes.Status403Forbidden, ErrorResponse.PeerRefused, peer.RefusalBody.Length > 0 ? peer.RefusalBody : _noPeerBody);
            case Verdict.NotLinked:
                var caller = peer.Id!;
                GatewayLog.NotLinked(logger, peer.IdText, caller.Cluster);
                return new(StatusCodes.Status403Forbidden, ErrorResponse.NotLinked, Encoding.UTF8.GetBytes(
                    $"caller {peer.IdText} is not admitted: cluster '{caller.Cluster}' of trust domain '{caller.TrustDomain}' is not linked to cluster {cluster}\n"));
            case Verdict.Probe:
                return new(StatusCodes.Status200OK, null, ProbeBody);
            case Verdict.MissingHost:
                return new(StatusCodes.Status400BadRequest, ErrorResponse.MissingHost, MissingHostBody);
            case Verdict.NotExported:
                var name = service?.DisplayName ?? GatewayRoutes.DisplayNameOf(host);
                if (logger.IsEnabled(LogLevel.Debug))
                {
                    GatewayLog.NotExported(logger, peer.IdText, name);
                }
                return new(StatusCodes.Status404NotFound, ErrorResponse.NotExported, service?.NotExportedBody ?? GatewayService.NotExported(name, cluster));
            default:
                return new(StatusCodes.Status503ServiceUnavailable, ErrorResponse.NoEndpoints, service!.NoEndpointBody);
        }
    }

    private async Task ForwardAsync(HttpContext context, GatewayService service, GatewayEndpoint endpoint, string callerCluster)
    {
        using var span = MeshTracing.StartSpan(context, MeshTracing.GatewaySpan, ActivityKind.Server);
        var started = Stopwatch.GetTimestamp();
        var error = await forwarder.SendAsync(context, endpoint.Prefix, endpoint.Client,
            HttpProtocol.IsHttp2(context.Request.Protocol) ? Http2Upstream : Http11Upstream, _transformer).ConfigureAwait(false);
        var seen = error == ForwarderError.None ? context.Response.StatusCode : StatusCodes.Status502BadGateway;
        var cell = Count(service, callerCluster, seen, started);
        MeshTracing.Complete(span, cell.Key, seen);
        if (error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
        {
            return;
        }
        var body = Failed(service, endpoint, error, context.Features.Get<IForwarderErrorFeature>()?.Exception);
        if (context.Response.HasStarted)
        {
            return;
        }
        var status = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        await ErrorResponse.WriteAsync(context, status, ErrorResponse.UpstreamUnavailable, body).ConfigureAwait(false);
    }

    /// <summary>Counts a forwarded request by the status its caller saw, in the service's cell for the calling cluster.</summary>
    internal RequestStatsCell Count(GatewayService service, string callerCluster, int seen, long started)
    {
        var cell = service.StatsCell(stats, callerCluster);
        cell.Record(seen, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return cell;
    }

    /// <summary>Logs a failed forward; returns the body of the 502 or 504 its caller gets when no response has begun.</summary>
    internal byte[] Failed(GatewayService service, GatewayEndpoint endpoint, ForwarderError error, Exception? exception)
    {
        var reason = exception?.Message ?? error.ToString();
        GatewayLog.UpstreamFailed(logger, endpoint.Address, service.DisplayName, error, reason);
        return Encoding.UTF8.GetBytes(
            $"gateway of cluster {cluster}: endpoint {endpoint.Address} ({endpoint.Identity}) of service '{service.DisplayName}' failed: {error}: {reason}\n");
    }
}
