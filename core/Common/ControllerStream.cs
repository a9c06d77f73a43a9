using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Common;

/// <summary>
/// Keeps one long-lived gRPC stream to the controller open: runs a session, and when it ends or
/// fails with a transport error, waits a jittered backoff and runs it again, until disposed.
/// A session calls its <c>progressed</c> action whenever it makes progress, so a healthy stream
/// restarts quickly. Owns the channel and the loop; disposing stops the loop, then closes the channel.
/// </summary>
public sealed class ControllerStream(string controllerAddress, ReconnectBackoff backoff, ILogger logger, string what) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public GrpcChannel Channel { get; } = GrpcChannel.ForAddress(controllerAddress);

    /// <summary>Starts the loop (once) with <paramref name="session"/>; <paramref name="disconnected"/> runs after each session ends.</summary>
    public void Start(Func<Action, CancellationToken, Task> session, Action? disconnected = null) =>
        _loop ??= Task.Run(() => RunAsync(session, disconnected, _stop.Token));

    private async Task RunAsync(Func<Action, CancellationToken, Task> session, Action? disconnected, CancellationToken cancellationToken)
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

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
        Channel.Dispose();
        _stop.Dispose();
    }
}
