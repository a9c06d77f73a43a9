namespace FedMesh.Core.Http2;

/// <summary>
/// The writes a read loop makes to other connections while it works through the frames of one read (a relay sending
/// on what arrived), flushed together when it is done with them: one TLS record and one send per connection for all
/// of a read's streams, instead of one per frame. The loop holds each connection it wrote to as that connection's
/// writer until then, and gives every one back before it waits for anything (so two loops never wait on each other).
/// On a socket loop's thread the batch lasts the loop's turn (<see cref="Transport.SocketLoop.AtTurnEnd"/>): the frames
/// that all the turn's reads make for one connection (each caller's request for the one pooled upstream connection)
/// go out in one send.
/// </summary>
internal sealed class Http2WriteBatch
{
    [ThreadStatic]
    private static Http2WriteBatch? t_active;

    [ThreadStatic]
    private static Http2WriteBatch? t_spare; // this thread's batch between reads: one per thread, not one per read

    private static readonly Action s_exit = Exit;

    private readonly List<Http2Connection> _held = [];
    private bool _untilTurnEnd; // Exit is to run at the end of this thread's socket-loop turn

    /// <summary>The batch of the read loop running on this thread, if one is working through a read.</summary>
    public static Http2WriteBatch? Active => t_active;

    /// <summary>Starts batching this thread's writes.</summary>
    public static Http2WriteBatch Enter() => t_active ??= t_spare ??= new Http2WriteBatch();

    public bool Holds(Http2Connection connection) => _held.Contains(connection);

    /// <summary>Keeps <paramref name="connection"/>'s writer turn, taken by the caller, until <see cref="Exit"/>.</summary>
    public void Hold(Http2Connection connection) => _held.Add(connection);

    /// <summary>
    /// A read loop is done with a read: its batch is flushed at the end of the socket loop's turn when this thread is a
    /// loop's handing out events (later reads of the turn add to it), else now (<see cref="Exit"/>).
    /// </summary>
    public static void Done()
    {
        var batch = t_active;
        if (batch is not null && batch._held.Count > 0 && (batch._untilTurnEnd || (batch._untilTurnEnd = Transport.SocketLoop.AtTurnEnd(s_exit))))
            return;
        Exit();
    }

    /// <summary>Flushes and gives back every connection written to, and stops batching this thread's writes.</summary>
    public static void Exit()
    {
        var batch = t_active;
        if (batch is null)
            return;
        t_active = null;
        t_spare = null; // a read loop that runs on this thread during the flushes batches in a batch of its own
        batch._untilTurnEnd = false;
        foreach (var connection in batch._held)
        {
            try
            {
                connection.FlushThenRelease();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
            {
                // That connection is broken (its read loop sees it end); the others are still flushed and given back.
            }
        }
        batch._held.Clear();
        t_spare = batch;
    }
}
