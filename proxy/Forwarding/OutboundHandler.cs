using System.Diagnostics;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Resilience;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// The outbound listener's only request handler: finds the service named by the authority,
/// lets its policy choose a backend and its balancer an endpoint, and forwards with YARP.
/// </summary>
internal sealed class OutboundHandler(RoutingState routing, ResilientForwarder forwarder, ProxyErrorWriter errors)
{
    public async Task HandleAsync(HttpContext context)
    {
        if (HttpMethods.IsConnect(context.Request.Method))
        {
            // The mesh adds TLS itself: apps send plain http:// requests, never tunnels.
            await errors.TunnelRefusedAsync(context).ConfigureAwait(false);
            return;
        }
        var table = routing.Current;
        var authority = context.Request.Host.Value;
        if (string.IsNullOrEmpty(authority))
        {
            await errors.MissingHostAsync(context).ConfigureAwait(false);
            return;
        }
        if (!table.TryFind(authority, out var route))
        {
            await errors.UnknownServiceAsync(context, table, authority).ConfigureAwait(false);
            return;
        }
        using var span = MeshTracing.StartSpan(context, MeshTracing.ProxyOutboundSpan, ActivityKind.Client);
        var request = await forwarder.ForwardAsync(context, route!).ConfigureAwait(false);
        if (request.Endpoint is null)
        {
            await errors.NoEndpointsAsync(context, route!.Self, request.Backend).ConfigureAwait(false);
            return;
        }
        var status = request.Error == ForwarderError.None ? context.Response.StatusCode : StatusCodes.Status502BadGateway;
        MeshTracing.Complete(span, route!.StatsCell(request.Backend, request.Endpoint).Key, status);
        if (request.Error != ForwarderError.None)
            await errors.UpstreamFailedAsync(context, request.Backend, request.Endpoint, request.Error).ConfigureAwait(false);
    }
}
