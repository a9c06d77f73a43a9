using System.Diagnostics;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Telemetry;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Inbound;

/// <summary>
/// The inbound listener's HTTP/1.1 relay: a plain request is relayed to the app as bytes, with the caller the
/// handler would send (the <c>x-fedmesh-caller</c> a gateway or peer proxy set, or else the verified peer), and the
/// handler's span, failure log and 502/504 body. What the relay does not take goes to <see cref="InboundHandler"/>.
/// </summary>
internal sealed class InboundRelay(InboundHandler handler, MeshClient app, string appPrefix, TimeSpan keepAlive, TimeSpan headTimeout)
    : Http11Relay(MeshTracing.ProxyInboundSpan, ActivityKind.Server, MeshForwarder.DefaultActivityTimeout, keepAlive, headTimeout)
{
    protected override string FailureCode => InboundHandler.AppUnavailable;

    protected override bool TryRoute(ConnectionContext connection, ref object? reusable, in RelayRequest request, out RelayTarget target)
    {
        target = default;
        // Several caller fields are one list on Kestrel's way, which joins them.
        if (!handler.AppTakesHttp11 || request.CallerFields > 1)
            return false;
        target = new RelayTarget(app, appPrefix, handler.RelayedCaller(connection, callerSent: request.CallerFields > 0), null);
        return true;
    }

    protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span) =>
        handler.Completed(span, status, error, exception);
}
