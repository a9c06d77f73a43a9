using System.Diagnostics;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// The outbound listener's only request handler: finds the service named by the authority,
/// lets its policy choose a backend and its balancer an endpoint, and forwards with YARP.
/// </summary>
internal sealed class OutboundHandler(RoutingState routing, IHttpForwarder forwarder, ProxyErrorWriter errors)
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
        var backend = route!.Policy.Choose();
        var endpoint = backend.Pick();
        if (endpoint is null)
        {
            await errors.NoEndpointsAsync(context, route.Self, backend).ConfigureAwait(false);
            return;
        }
        using var span = MeshTracing.StartSpan(context, MeshTracing.ProxyOutboundSpan, ActivityKind.Client);
        var started = Stopwatch.GetTimestamp();
        var error = await forwarder.SendAsync(context, endpoint.DestinationPrefix, endpoint.Invoker, endpoint.RequestConfig, endpoint.Transformer).ConfigureAwait(false);
        var status = error == ForwarderError.None ? context.Response.StatusCode : StatusCodes.Status502BadGateway;
        var cell = route.StatsCell(backend, endpoint);
        cell.Record(status, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        MeshTracing.Complete(span, cell.Key, status);
        if (error != ForwarderError.None)
            await errors.UpstreamFailedAsync(context, backend, endpoint, error).ConfigureAwait(false);
    }
}
