using System.Text;
using FedMesh.Core.Http2;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// Writes the proxy's own error responses: a status, an <c>x-fedmesh-error</c> code a script can
/// test, and a sentence a person can act on. Off the hot path: only failing requests get here.
/// </summary>
internal sealed class ProxyErrorWriter(string cluster, ILogger logger)
{
    /// <summary>Header naming the proxy's own error.</summary>
    public const string ErrorHeader = "x-fedmesh-error";

    public const string UnknownService = "unknown-service";
    public const string NoEndpoints = "no-endpoints";
    public const string UpstreamUnavailable = "upstream-unavailable";
    public const string MissingHost = "missing-host";
    public const string TunnelUnsupported = "tunnel-unsupported";

    public Task UnknownServiceAsync(HttpContext context, RoutingTable table, string authority) => WriteAsync(context, UnknownServiceAnswer(table, authority));

    public Task NoEndpointsAsync(HttpContext context, BackendSet service, BackendSet backend) => WriteAsync(context, NoEndpointsAnswer(service, backend));

    public Task MissingHostAsync(HttpContext context) => WriteAsync(context, MissingHostAnswer());

    public Task TunnelRefusedAsync(HttpContext context) => WriteAsync(context, TunnelRefusedAnswer());

    // The answers themselves, for Kestrel's way (the methods above) and the HTTP/2 relay's (OutboundHttp2Relay) alike.

    public RelayAnswer UnknownServiceAnswer(RoutingTable table, string authority) =>
        Answer(StatusCodes.Status502BadGateway, UnknownService,
            $"unknown service '{RoutingTable.HostOf(authority)}'; known services: {table.KnownServices}");

    public RelayAnswer NoEndpointsAnswer(BackendSet service, BackendSet backend)
    {
        var which = ReferenceEquals(service, backend) ? $"service '{service.DisplayName}'" : $"service '{service.DisplayName}' (backend '{backend.DisplayName}')";
        return Answer(StatusCodes.Status503ServiceUnavailable, NoEndpoints, $"{which} has no healthy endpoints");
    }

    public RelayAnswer MissingHostAnswer() =>
        Answer(StatusCodes.Status400BadRequest, MissingHost, "the request names no service: send a Host header or an absolute URI");

    public RelayAnswer TunnelRefusedAnswer() =>
        Answer(StatusCodes.Status405MethodNotAllowed, TunnelUnsupported,
            "CONNECT tunnels are not supported: send plain http:// requests, the mesh encrypts them between clusters");

    private RelayAnswer Answer(int status, string code, string message) => new(status, code, Body(message));

    public Task UpstreamFailedAsync(HttpContext context, BackendSet backend, UpstreamEndpoint endpoint, ForwarderError error)
    {
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
            return Task.CompletedTask; // the app went away; nobody to answer
        var message = UpstreamFailed(backend, endpoint, error, context.Features.Get<IForwarderErrorFeature>()?.Exception);
        if (context.Response.HasStarted)
            return Task.CompletedTask; // YARP aborts the response; the client sees a reset
        var status = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        return WriteAsync(context, Answer(status, UpstreamUnavailable, message));
    }

    /// <summary>Logs a failed forward (throttled per endpoint) and returns the sentence its error response carries.</summary>
    public string UpstreamFailed(BackendSet backend, UpstreamEndpoint endpoint, ForwarderError error, Exception? exception)
    {
        var reason = exception is { } e ? Describe(e) : error.ToString();
        var suppressed = 0;
        if (endpoint.FailureLog is null || endpoint.FailureLog.TryEnter(out suppressed))
            ProxyLog.UpstreamFailed(logger, backend.DisplayName, endpoint.Address, endpoint.Identity, error, reason, suppressed);
        var via = endpoint.ViaGateway ? $"gateway {endpoint.Address} of cluster {endpoint.Cluster}" : $"endpoint {endpoint.Address}";
        return $"service '{backend.DisplayName}': {via} ({endpoint.Identity}) failed: {error}: {reason}";
    }

    /// <summary>An error response's body, as <see cref="WriteAsync"/> writes it.</summary>
    public byte[] Body(string message) => Encoding.UTF8.GetBytes($"fedmesh proxy (cluster {cluster}): {message}\n");

    private static string Describe(Exception e)
    {
        var message = e.Message;
        for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            message += " -> " + inner.Message;
        return message;
    }

    private static Task WriteAsync(HttpContext context, RelayAnswer answer)
    {
        var response = context.Response;
        if (response.HasStarted)
            return Task.CompletedTask;
        response.Clear();
        response.StatusCode = answer.Status;
        response.Headers[ErrorHeader] = answer.ErrorCode;
        response.ContentType = "text/plain; charset=utf-8";
        return response.Body.WriteAsync(answer.Body, context.RequestAborted).AsTask();
    }
}
