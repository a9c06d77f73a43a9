using Microsoft.AspNetCore.Http;
using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.Admin;

/// <summary>The admin listener: <c>/live</c> (the process answers), <c>/ready</c> (it can carry traffic) and <c>/routes</c> (the applied routes); <c>/metrics</c> is served before this handler.</summary>
internal sealed class AdminHandler(ReadinessGate readiness, Func<AppliedSnapshot?>? applied = null)
{
    public Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var response = context.Response;
        response.ContentType = "text/plain; charset=utf-8";
        if (path.Equals("/live", StringComparison.Ordinal))
            return response.WriteAsync("live\n");
        if (path.Equals("/ready", StringComparison.Ordinal))
        {
            var reason = readiness.NotReadyReason();
            if (reason is null)
                return response.WriteAsync("ready\n");
            response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            return response.WriteAsync("not ready: " + reason + "\n");
        }
        if (path.Equals("/routes", StringComparison.Ordinal))
            return RoutesEndpoint.WriteAsync(response, applied?.Invoke());
        response.StatusCode = StatusCodes.Status404NotFound;
        return response.WriteAsync("unknown admin path; try /ready, /live, /routes or /metrics\n");
    }
}
