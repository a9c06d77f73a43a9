using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using FedMesh.Core.Common;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Inbound;

/// <summary>
/// The inbound listener's request handler: forwards to the app over plain HTTP through one shared client,
/// in the protocol <paramref name="appProtocol"/> says (by default the caller's: HTTP/2 as h2c, so gRPC works),
/// carrying the caller's identity in <c>x-fedmesh-caller</c>.
/// </summary>
internal sealed class InboundHandler(IHttpForwarder forwarder, HttpMessageInvoker appClient, string appPrefix, string appProtocol, string cluster, LogThrottle failureLog, ILogger logger)
{
    private readonly CallerTransformer _transformer = new();

    /// <summary>HTTP/1.1 callers' requests go to the app as HTTP/1.1 (what the relay sends) unless the app is declared HTTP/2.</summary>
    public bool AppTakesHttp11 => appProtocol != AppProtocols.Http2;

    /// <summary>The relay that takes plain HTTP/1.1 requests off the listener; null when the app client cannot relay.</summary>
    public InboundRelay? Relay(TimeSpan keepAlive, TimeSpan headTimeout) =>
        appClient is MeshClient client ? new InboundRelay(this, client, appPrefix, keepAlive, headTimeout) : null;

    /// <summary>
    /// The relay that takes HTTP/2 connections off the listener; null when the app is declared HTTP/1.1 (its HTTP/2
    /// callers are translated on Kestrel's way) or the app client cannot relay.
    /// </summary>
    public InboundHttp2Relay? Http2Relay() =>
        appProtocol != AppProtocols.Http1 && appClient is MeshClient client ? new InboundHttp2Relay(this, client, appPrefix) : null;

    private ForwarderRequestConfig AppConfig(HttpRequest request) => appProtocol switch
    {
        AppProtocols.Http1 => UpstreamVersion.Http11,
        AppProtocols.Http2 => UpstreamVersion.Http2,
        _ => UpstreamVersion.For(request),
    };

    public async Task HandleAsync(HttpContext context)
    {
        using var span = MeshTracing.StartSpan(context, MeshTracing.ProxyInboundSpan, System.Diagnostics.ActivityKind.Server);
        var error = await forwarder.SendAsync(context, appPrefix, appClient, AppConfig(context.Request), _transformer).ConfigureAwait(false);
        MeshTracing.Complete(span, error == ForwarderError.None ? context.Response.StatusCode : StatusCodes.Status502BadGateway);
        if (error == ForwarderError.None || error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
            return;
        var body = Failed(error, context.Features.Get<IForwarderErrorFeature>()?.Exception);
        if (context.Response.HasStarted)
            return;
        context.Response.Clear();
        context.Response.StatusCode = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        context.Response.Headers[ProxyErrorWriter.ErrorHeader] = AppUnavailable;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>
    /// How a relayed request to the app ended (both relays report through it): its span completed; the body of the 502
    /// or 504 its caller gets when the app failed before answering.
    /// </summary>
    public byte[] Completed(System.Diagnostics.Activity? span, int status, ForwarderError error, Exception? exception)
    {
        MeshTracing.Complete(span, status);
        return error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled ? [] : Failed(error, exception);
    }

    /// <summary>The <c>x-fedmesh-error</c> code of a failed forward to the app.</summary>
    public const string AppUnavailable = "app-unavailable";

    /// <summary>Logs a failed forward to the app (throttled); returns the body of the 502 or 504 its caller gets when no response has begun.</summary>
    public byte[] Failed(ForwarderError error, Exception? exception)
    {
        var reason = exception?.Message ?? error.ToString();
        if (failureLog.TryEnter(out var suppressed))
            ProxyLog.AppFailed(logger, appPrefix, error, reason, suppressed);
        return Encoding.UTF8.GetBytes($"fedmesh proxy (cluster {cluster}): the app at {appPrefix} failed: {error}: {reason}\n");
    }

    /// <summary>
    /// The caller a relay sends the app: null when the request names one (a gateway or peer proxy set it: passed on),
    /// else the connection's verified peer.
    /// </summary>
    public string? RelayedCaller(Microsoft.AspNetCore.Connections.ConnectionContext connection, bool callerSent) =>
        !callerSent && connection.Features.Get<Microsoft.AspNetCore.Http.Features.ITlsConnectionFeature>()?.ClientCertificate is { } certificate
            ? PeerId(certificate)
            : null;

    /// <summary>The SPIFFE id of a connection's verified peer; null when its certificate names none.</summary>
    public string? PeerId(X509Certificate2 certificate) => _transformer.PeerId(certificate);

    /// <summary>Keeps the caller header a gateway or peer proxy set; otherwise names the verified peer.</summary>
    private sealed class CallerTransformer : MeshTransformer
    {
        // One TLS connection keeps one certificate object: parse its SPIFFE id once per connection.
        private readonly ConditionalWeakTable<X509Certificate2, string> _peerIds = new();

        public override string? Caller(HttpContext context)
        {
            var sent = context.Request.Headers[WellKnown.CallerIdentityHeader];
            if (sent.Count > 0)
                return sent.ToString();
            return context.Connection.ClientCertificate is { } certificate ? PeerId(certificate) : null;
        }

        public string? PeerId(X509Certificate2 certificate)
        {
            if (!_peerIds.TryGetValue(certificate, out var peer))
            {
                peer = SpiffeId.FromCertificate(certificate, out _)?.ToString() ?? "";
                _peerIds.AddOrUpdate(certificate, peer);
            }
            return peer.Length > 0 ? peer : null;
        }
    }
}
