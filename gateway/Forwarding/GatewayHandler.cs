using System.Diagnostics;
using System.Net;
using System.Text;
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
    private static readonly byte[] MissingHostBody = "the request has no Host; name the service as <service>.<namespace>\n"u8.ToArray();
    private readonly CallerTransformer _transformer = new();
    private readonly byte[] _notReadyBody = Encoding.UTF8.GetBytes($"gateway of cluster {cluster} is starting: no discovery snapshot yet\n");
    private readonly byte[] _noPeerBody = "client certificate required\n"u8.ToArray();

    public Task HandleAsync(HttpContext context, ConnectionPeer peer)
    {
        var routes = state.Routes;
        if (routes is null)
        {
            return ErrorResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorResponse.NotReady, _notReadyBody);
        }
        var caller = peer.Id;
        if (caller is null)
        {
            var body = peer.RefusalBody.Length > 0 ? peer.RefusalBody : _noPeerBody;
            return ErrorResponse.WriteAsync(context, StatusCodes.Status403Forbidden, ErrorResponse.PeerRefused, body);
        }
        if (!string.Equals(caller.TrustDomain, trustDomain, StringComparison.Ordinal) || !routes.IsLinked(caller.Cluster))
        {
            GatewayLog.NotLinked(logger, peer.IdText, caller.Cluster);
            return ErrorResponse.WriteAsync(context, StatusCodes.Status403Forbidden, ErrorResponse.NotLinked, Encoding.UTF8.GetBytes(
                $"caller {peer.IdText} is not admitted: cluster '{caller.Cluster}' of trust domain '{caller.TrustDomain}' is not linked to cluster {cluster}\n"));
        }
        if (context.Request.Path.Equals(WellKnown.GatewayProbePath, StringComparison.Ordinal))
        {
            return ErrorResponse.WriteAsync(context, StatusCodes.Status200OK, null, ProbeBody);
        }
        var host = context.Request.Host.Value.AsSpan();
        if (host.IsEmpty)
        {
            return ErrorResponse.WriteAsync(context, StatusCodes.Status400BadRequest, ErrorResponse.MissingHost, MissingHostBody);
        }
        var service = routes.Find(host);
        if (service is null || !service.Reachable)
        {
            var name = service?.DisplayName ?? GatewayRoutes.DisplayNameOf(host);
            if (logger.IsEnabled(LogLevel.Debug))
            {
                GatewayLog.NotExported(logger, peer.IdText, name);
            }
            return ErrorResponse.WriteAsync(context, StatusCodes.Status404NotFound, ErrorResponse.NotExported,
                service?.NotExportedBody ?? GatewayService.NotExported(name, cluster));
        }
        var endpoint = service.Next();
        if (endpoint is null)
        {
            return ErrorResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorResponse.NoEndpoints, service.NoEndpointBody);
        }
        return ForwardAsync(context, service, endpoint, caller.Cluster);
    }

    private async Task ForwardAsync(HttpContext context, GatewayService service, GatewayEndpoint endpoint, string callerCluster)
    {
        using var span = MeshTracing.StartSpan(context, MeshTracing.GatewaySpan, ActivityKind.Server);
        var started = Stopwatch.GetTimestamp();
        var error = await forwarder.SendAsync(context, endpoint.Prefix, endpoint.Client,
            HttpProtocol.IsHttp2(context.Request.Protocol) ? Http2Upstream : Http11Upstream, _transformer).ConfigureAwait(false);
        var seen = error == ForwarderError.None ? context.Response.StatusCode : StatusCodes.Status502BadGateway;
        var cell = service.StatsCell(stats, callerCluster);
        cell.Record(seen, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        MeshTracing.Complete(span, cell.Key, seen);
        if (error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
        {
            return;
        }
        var reason = context.Features.Get<IForwarderErrorFeature>()?.Exception?.Message ?? error.ToString();
        GatewayLog.UpstreamFailed(logger, endpoint.Address, service.DisplayName, error, reason);
        if (context.Response.HasStarted)
        {
            return;
        }
        var status = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        await ErrorResponse.WriteAsync(context, status, ErrorResponse.UpstreamUnavailable, Encoding.UTF8.GetBytes(
            $"gateway of cluster {cluster}: endpoint {endpoint.Address} ({endpoint.Identity}) of service '{service.DisplayName}' failed: {error}: {reason}\n"))
            .ConfigureAwait(false);
    }
}
