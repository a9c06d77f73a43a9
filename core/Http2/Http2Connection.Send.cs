using System.Buffers;
using System.IO.Pipelines;

namespace FedMesh.Core.Http2;

/// <summary>A connection's writing side: one writer at a time, header blocks encoded in the order they go out.</summary>
internal sealed partial class Http2Connection
{
    /// <summary>
    /// Writes frames and flushes them, after any writer before; on a read loop's thread, into its batch when the
    /// connection's turn is the batch's or free (flushed with the batch, <see cref="Http2WriteBatch"/>), so a read's
    /// frames (a GOAWAY, a pump's data) cost no send of their own. The control frames that wait go first (see SendControl).
    /// </summary>
    private Task WriteAsync(Action<IBufferWriter<byte>> write, CancellationToken token)
    {
        if (Http2WriteBatch.Active is null || token.IsCancellationRequested || !TryTakeTurn(out var batch, out var held))
            return WriteNowAsync(write, token);
        try
        {
            // An ended connection: the writer's way, which tells the caller so as it always has.
            return WriteInTurn(batch, held, write, static (self, write) => write(self._output)) ? Task.CompletedTask : WriteNowAsync(write, token);
        }
        catch (Exception e)
        {
            return Task.FromException(e);
        }
    }

    private async Task WriteNowAsync(Action<IBufferWriter<byte>> write, CancellationToken token)
    {
        await _writing.WaitAsync(token).ConfigureAwait(false);
        try
        {
            WriteQueuedControl();
            write(_output);
            await _output.FlushAsync(token).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    /// <summary>A last frame on the way out (GOAWAY): not sent when the connection can no longer take it.</summary>
    private async Task TryWriteAsync(Action<IBufferWriter<byte>> write)
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await WriteAsync(write, bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The peer is gone or not reading: nothing more to tell it.
        }
    }

    /// <summary>
    /// Sends all of <paramref name="data"/> now, on the calling thread, when no other writer holds the connection and
    /// both windows have room for it; false (nothing sent) otherwise.
    /// </summary>
    internal bool TrySendDataNow(Http2Stream stream, ReadOnlySpan<byte> data, bool endStream)
    {
        if (stream.Id == 0 || !TryTakeTurn(out var batch, out var held))
            return false;
        int maxFrame;
        lock (_state)
        {
            if (_closed || stream.LocalClosed || !_streams.ContainsKey(stream.Id) || stream.SendWindow < data.Length || _sendWindow < data.Length)
            {
                if (!held)
                    _writing.Release();
                return false;
            }
            stream.SendWindow -= data.Length;
            _sendWindow -= data.Length;
            if (endStream)
                stream.LocalClosed = true;
            maxFrame = _peer.MaxFrameSize;
        }
        WriteQueuedControl();
        Http2FrameWriter.WriteData(_output, stream.Id, data, endStream, maxFrame);
        Written(batch, held);
        if (endStream)
            Retire(stream);
        return true;
    }

    /// <summary>After a write on the calling thread: flushed with the read loop's batch when there is one, else now.</summary>
    private void Written(Http2WriteBatch? batch, bool held)
    {
        if (held)
            return;
        if (batch is not null)
            batch.Hold(this);
        else
            FlushThenRelease();
    }

    /// <summary>Flushes what was written and gives up the writer's turn once the flush is done (at once, mostly).</summary>
    internal void FlushThenRelease()
    {
        ValueTask<FlushResult> flush;
        try
        {
            flush = _output.FlushAsync();
        }
        catch
        {
            _writing.Release();
            throw;
        }
        if (flush.IsCompletedSuccessfully)
        {
            flush.GetAwaiter().GetResult();
            _writing.Release();
            return;
        }
        _ = ReleaseAfterAsync(flush);
    }

    private async Task ReleaseAfterAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or OperationCanceledException)
        {
            // The read loop sees the connection end.
        }
        finally
        {
            _writing.Release();
        }
    }

    internal async ValueTask SendDataAsync(Http2Stream stream, ReadOnlyMemory<byte> data, bool endStream, CancellationToken token)
    {
        while (true)
        {
            int allowed, maxFrame;
            Task opened;
            lock (_state)
            {
                ThrowIfEnded(stream);
                maxFrame = _peer.MaxFrameSize;
                // A stream's window may be below zero, after the peer lowered SETTINGS_INITIAL_WINDOW_SIZE (RFC 9113 §6.9.2).
                allowed = (int)Math.Clamp(Math.Min(stream.SendWindow, _sendWindow), 0, data.Length);
                if (allowed > 0 || data.IsEmpty)
                {
                    stream.SendWindow -= allowed;
                    _sendWindow -= allowed;
                    if (endStream && allowed == data.Length)
                        stream.LocalClosed = true;
                }
                opened = _windowOpened.Task;
            }
            if (allowed == 0 && !data.IsEmpty)
            {
                await opened.WaitAsync(token).ConfigureAwait(false); // a WINDOW_UPDATE, a new setting, a reset or the end
                continue;
            }
            var chunk = data[..allowed];
            var last = endStream && allowed == data.Length;
            await WriteAsync(w => Http2FrameWriter.WriteData(w, stream.Id, chunk.Span, last, maxFrame), token).ConfigureAwait(false);
            data = data[allowed..];
            if (data.IsEmpty)
                break;
        }
        if (endStream)
            Retire(stream);
    }

    /// <summary>
    /// Resets a stream from its owner: its RST_STREAM goes as the control frames do (<see cref="SendControl"/>), now
    /// when the writer's turn is free, else written by the next writer ahead of its own frames — never given up while
    /// the connection lives, so the peer always learns the stream is over. Never waits for the writer.
    /// </summary>
    internal void Reset(Http2Stream stream, Http2ErrorCode code)
    {
        lock (_state)
        {
            if (stream.Id == 0)
            {
                if (!stream.LocalClosed)
                    _opening--; // never opened on the wire: nothing to send
                stream.LocalClosed = stream.RemoteClosed = true;
                return;
            }
            if (!_streams.Remove(stream.Id) || _closed)
                return;
            stream.LocalClosed = stream.RemoteClosed = true;
            TakeBackUnreturned(stream);
            RememberReset(stream.Id);
            SignalWindow();
        }
        CreditConnection(0);
        try
        {
            SendControl(new ControlFrame(Http2FrameType.RstStream, stream.Id, (ulong)code));
        }
        catch (Http2ConnectionException e)
        {
            Fail(e); // the peer reads none of what it is sent and the control frames' bound is reached: the connection ends
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The transport has ended: the read loop sees it.
        }
        FinishIfDrained();
    }

    private void ThrowIfEnded(Http2Stream stream)
    {
        if (_closed)
            throw new IOException("the HTTP/2 connection has ended", _closeReason);
        // A reset marks the stream ended both ways: asked first, so that a send the reset cut short hears of it as such.
        if (stream.Id != 0 && !_streams.ContainsKey(stream.Id))
            throw new Http2StreamException(stream.Id, Http2ErrorCode.StreamClosed, $"{stream} was reset or has ended");
        if (stream.LocalClosed)
            throw new InvalidOperationException($"{stream} has ended on this side");
    }
}
