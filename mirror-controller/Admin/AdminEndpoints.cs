using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace FedMesh.MirrorController.Admin;

/// <summary>The admin port (HTTP/1.1): <c>/live</c> while the process runs, <c>/ready</c> once it serves (<c>/metrics</c> is mapped before).</summary>
internal static class AdminEndpoints
{
    public static void Map(IApplicationBuilder admin, ReadinessState readiness)
    {
        admin.Run(context =>
        {
            var path = context.Request.Path;
            if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
            {
                context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
                return Task.CompletedTask;
            }
            context.Response.ContentType = "text/plain; charset=utf-8";
            if (path == "/live")
                return context.Response.WriteAsync("live\n", context.RequestAborted);
            if (path == "/ready")
            {
                if (readiness.IsReady)
                    return context.Response.WriteAsync("ready\n", context.RequestAborted);
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return context.Response.WriteAsync("not ready: " + string.Join(", ", readiness.Missing()) + "\n", context.RequestAborted);
            }
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return context.Response.WriteAsync("not found: the admin port serves /ready, /live and /metrics\n", context.RequestAborted);
        });
    }
}
