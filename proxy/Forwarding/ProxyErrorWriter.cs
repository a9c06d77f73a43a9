using System.Text;
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

    public Task UnknownServiceAsync(HttpContext context, RoutingTable table, string authority)
    {
        var name = RoutingTable.HostOf(authority).ToString();
        return WriteAsync(context, StatusCodes.Status502BadGateway, UnknownService,
            $"unknown service '{name}'; known services: {table.KnownServices}");
    }

    public Task NoEndpointsAsync(HttpContext context, BackendSet service, BackendSet backend)
    {
        var which = ReferenceEquals(service, backend) ? $"service '{service.DisplayName}'" : $"service '{service.DisplayName}' (backend '{backend.DisplayName}')";
        return WriteAsync(context, StatusCodes.Status503ServiceUnavailable, NoEndpoints, $"{which} has no healthy endpoints");
    }

    public Task MissingHostAsync(HttpContext context)
        => WriteAsync(context, StatusCodes.Status400BadRequest, MissingHost, "the request names no service: send a Host header or an absolute URI");

    public Task TunnelRefusedAsync(HttpContext context)
        => WriteAsync(context, StatusCodes.Status405MethodNotAllowed, TunnelUnsupported,
            "CONNECT tunnels are not supported: send plain http:// requests, the mesh encrypts them between clusters");

    public Task UpstreamFailedAsync(HttpContext context, BackendSet backend, UpstreamEndpoint endpoint, ForwarderError error)
    {
        if (error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled)
            return Task.CompletedTask; // the app went away; nobody to answer
        var message = UpstreamFailed(backend, endpoint, error, context.Features.Get<IForwarderErrorFeature>()?.Exception);
        if (context.Response.HasStarted)
            return Task.CompletedTask; // YARP aborts the response; the client sees a reset
        var status = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        return WriteAsync(context, status, UpstreamUnavailable, message);
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

    private Task WriteAsync(HttpContext context, int status, string code, string message)
    {
        var response = context.Response;
        if (response.HasStarted)
            return Task.CompletedTask;
        response.Clear();
        response.StatusCode = status;
        response.Headers[ErrorHeader] = code;
        response.ContentType = "text/plain; charset=utf-8";
        return response.Body.WriteAsync(Body(message), context.RequestAborted).AsTask();
    }
}
