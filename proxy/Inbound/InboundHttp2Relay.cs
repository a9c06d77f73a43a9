using System.Diagnostics;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Inbound;

/// <summary>
/// The inbound listener's HTTP/2 relay, for an app that takes HTTP/2 (h2c): every stream relayed to the app with the
/// caller the handler would send (the <c>x-fedmesh-caller</c> a gateway or peer proxy set, or else the verified peer),
/// and the handler's span, failure log and 502/504 body. Not installed for an app declared HTTP/1.1, whose HTTP/2
/// callers Kestrel's way translates.
/// </summary>
internal sealed class InboundHttp2Relay(InboundHandler handler, MeshClient app, string appPrefix)
    : Http2Relay(MeshTracing.ProxyInboundSpan, ActivityKind.Server, MeshForwarder.DefaultActivityTimeout)
{
    private static readonly byte[] CallerName = System.Text.Encoding.ASCII.GetBytes(WellKnown.CallerIdentityHeader);

    protected override string FailureCode => InboundHandler.AppUnavailable;

    protected override bool TryRoute(ConnectionContext connection, in Http2RelayRequest request, out RelayTarget target, out RelayAnswer answer)
    {
        answer = default;
        target = new RelayTarget(app, appPrefix, handler.RelayedCaller(connection, callerSent: !request.Field(CallerName).IsEmpty), null);
        return true;
    }

    protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span) =>
        handler.Completed(span, status, error, exception);
}
