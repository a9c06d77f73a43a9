using System.Text;
using FedMesh.Gateway.Forwarding;
using FedMesh.Gateway.Hosting;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Gateway.Admin;

/// <summary>The admin listener: <c>/live</c> while the process runs, <c>/ready</c> once the gateway can serve.</summary>
internal sealed class AdminHandler(GatewayState state)
{
    private static readonly byte[] Live = "live\n"u8.ToArray();
    private static readonly byte[] ReadyBody = "ready\n"u8.ToArray();
    private static readonly byte[] Unknown = "unknown admin path; the gateway answers /ready, /live and /metrics here\n"u8.ToArray();

    public Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.Equals("/live", StringComparison.Ordinal))
        {
            return ErrorResponse.WriteAsync(context, StatusCodes.Status200OK, null, Live);
        }
        if (path.Equals("/ready", StringComparison.Ordinal))
        {
            return state.Ready
                ? ErrorResponse.WriteAsync(context, StatusCodes.Status200OK, null, ReadyBody)
                : ErrorResponse.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorResponse.NotReady,
                    Encoding.UTF8.GetBytes($"not ready: waiting for {state.WaitingFor()}\n"));
        }
        return ErrorResponse.WriteAsync(context, StatusCodes.Status404NotFound, null, Unknown);
    }
}
