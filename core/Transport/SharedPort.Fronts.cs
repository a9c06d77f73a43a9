using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Transport;

/// <summary>
/// Serves a shared port's connections of one protocol ahead of Kestrel (<see cref="SharedPortEndPoint.Front"/>): runs
/// on the thread that routed the connection, and gives it to Kestrel with <paramref name="handOff"/> (from then on
/// Kestrel owns it) or returns without (the port then disposes of it). <paramref name="closing"/> is cancelled when the
/// port stops: the front then closes its connections as soon as each is between requests.
/// </summary>
public delegate Task ConnectionFront(ConnectionContext connection, ConnectionDelegate handOff, CancellationToken closing);

// A shared port's fronts: the connections they hold, tracked by the port itself (Kestrel does not see them), asked to
// close when it stops, waited for, and aborted when the server's shutdown timeout ends.
internal sealed partial class SharedPort
{
    private readonly ConnectionFront?[] _fronts = new ConnectionFront?[2]; // by queue: HTTP/1.1, HTTP/2
    private readonly ConcurrentDictionary<ConnectionContext, byte> _running = new(); // connections a front holds
    private readonly CancellationTokenSource _draining = new(); // the fronts' "closing"; cancelled once the port closed
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _abortAtTimeout;

    private async Task RunFrontAsync(ConnectionContext connection, ConnectionFront front, Channel<ConnectionContext> queue)
    {
        _running.TryAdd(connection, 0);
        var handedOff = false;
        try
        {
            await front(connection, handed =>
            {
                handedOff = true;
                return HandOff(handed, queue);
            }, _draining.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // The front handles its own failures; this is the backstop that keeps the exception observed.
            FrontFailed(_logger, connection.RemoteEndPoint?.ToString() ?? "?", e.Message);
            connection.Abort(new ConnectionAbortedException("serving the connection failed: " + e.Message, e));
        }
        try
        {
            if (!handedOff)
                await connection.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            _running.TryRemove(connection, out _);
            if (_draining.IsCancellationRequested)
                DrainedIfEmpty();
        }
    }

    /// <summary>
    /// Asks the fronts' connections to close (the port has closed), and aborts those left when
    /// <paramref name="shutdownTimeout"/> ends. The registration is in place before any front sees the port draining
    /// (the last to end disposes of it).
    /// </summary>
    private void DrainFronts(CancellationToken shutdownTimeout)
    {
        _abortAtTimeout = shutdownTimeout.Register(static port => ((SharedPort)port!).AbortRunning(), this);
        _draining.Cancel();
        DrainedIfEmpty();
    }

    private void DrainedIfEmpty()
    {
        if (_running.IsEmpty && _drained.TrySetResult())
            _abortAtTimeout.Dispose();
    }

    /// <summary>Aborts the connections the fronts still hold: the server's shutdown timeout has ended.</summary>
    private void AbortRunning()
    {
        foreach (var connection in _running.Keys)
            connection.Abort(new ConnectionAbortedException("the server is stopping"));
    }

    /// <summary>Completes once the port is closed (it drains only then) and the fronts hold no connection.</summary>
    private Task Drained => _draining.IsCancellationRequested ? _drained.Task : Task.CompletedTask;

    [LoggerMessage(2, LogLevel.Warning, "serving the connection from {Remote} failed: {Reason}")]
    private static partial void FrontFailed(ILogger logger, string remote, string reason);
}
