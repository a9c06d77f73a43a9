using System.IO.Pipelines;
using System.Net.Sockets;

namespace FedMesh.Core.Transport;

/// <summary>
/// Kestrel's writes, straight onto the socket (encrypted, for TLS): a stream pipe writer over the connection's
/// stream. Kestrel expects a transport's flush to fail only by cancellation (a pipe never throws, it
/// reports completion), so a write to a peer that has gone aborts the connection and reports the output
/// completed, as the socket transport's pipe would.
/// </summary>
internal sealed class OutputPipeWriter(StreamConnection connection, PipeWriter inner) : PipeWriter
{
    private static readonly FlushResult Gone = new(isCanceled: false, isCompleted: true);

    public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

    public override long UnflushedBytes => inner.UnflushedBytes;

    public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

    public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

    public override void Advance(int bytes) => inner.Advance(bytes);

    public override void CancelPendingFlush() => inner.CancelPendingFlush();

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> flush;
        try
        {
            flush = inner.FlushAsync(cancellationToken);
        }
        catch (Exception e) when (IsPeerGone(e))
        {
            connection.OnWriteFailed(e);
            return ValueTask.FromResult(Gone);
        }
        return flush.IsCompletedSuccessfully ? flush : AwaitAsync(flush);
    }

    public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
    {
        ValueTask<FlushResult> write;
        try
        {
            write = inner.WriteAsync(source, cancellationToken);
        }
        catch (Exception e) when (IsPeerGone(e))
        {
            connection.OnWriteFailed(e);
            return ValueTask.FromResult(Gone);
        }
        return write.IsCompletedSuccessfully ? write : AwaitAsync(write);
    }

    public override void Complete(Exception? exception = null)
    {
        try
        {
            // Writes out whatever is still buffered (Kestrel flushes before it completes, so usually nothing).
            inner.Complete(exception);
        }
        catch (Exception e) when (IsPeerGone(e))
        {
            connection.OnWriteFailed(e);
        }
    }

    public override async ValueTask CompleteAsync(Exception? exception = null)
    {
        try
        {
            await inner.CompleteAsync(exception).ConfigureAwait(false);
        }
        catch (Exception e) when (IsPeerGone(e))
        {
            connection.OnWriteFailed(e);
        }
    }

    private async ValueTask<FlushResult> AwaitAsync(ValueTask<FlushResult> pending)
    {
        try
        {
            return await pending.ConfigureAwait(false);
        }
        catch (Exception e) when (IsPeerGone(e))
        {
            connection.OnWriteFailed(e);
            return Gone;
        }
    }

    // Cancellation is Kestrel's own (a timeout or an abort) and goes back to it as such.
    private static bool IsPeerGone(Exception e) =>
        e is IOException or SocketException or ObjectDisposedException or NotSupportedException or InvalidOperationException;
}
