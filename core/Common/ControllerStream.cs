using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Common;

/// <summary>
/// Keeps one long-lived gRPC stream to the controller open: runs a session, and when it ends or
/// fails with a transport error, waits a jittered backoff and runs it again, until cancelled.
/// A session calls <c>reset</c> whenever it makes progress, so a healthy stream restarts quickly.
/// </summary>
public static class ControllerStream
{
    public static async Task RunAsync(Func<Action, CancellationToken, Task> session, ReconnectBackoff backoff, ILogger logger, string what,
        Action? disconnected, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await session(backoff.Reset, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is RpcException or IOException or HttpRequestException or InvalidOperationException)
            {
                logger.LogDebug("{Stream} to the controller failed: {Error}", what, e.Message);
            }
            disconnected?.Invoke();
            if (!await backoff.WaitAsync(cancellationToken).ConfigureAwait(false))
                break;
        }
    }
}
