using Microsoft.AspNetCore.Http;

namespace FedMesh.Proxy.Admin;

/// <summary>The admin listener: <c>/live</c> (the process answers) and <c>/ready</c> (it can carry traffic); <c>/metrics</c> is served before this handler.</summary>
internal sealed class AdminHandler(ReadinessGate readiness)
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
        response.StatusCode = StatusCodes.Status404NotFound;
        return response.WriteAsync("unknown admin path; try /ready, /live or /metrics\n");
    }
}
