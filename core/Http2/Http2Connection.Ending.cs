namespace FedMesh.Core.Http2;

/// <summary>How a connection ends: GOAWAY with the streams under way let finish, disposal, and the owners told once.</summary>
internal sealed partial class Http2Connection
{
    /// <summary>
    /// Says GOAWAY (no error) but lets the streams under way finish: streams the peer opens after it are refused, and the
    /// connection ends once the last stream has.
    /// </summary>
    public async Task GoAwayAsync()
    {
        int last;
        lock (_state)
        {
            if (_closed || _goAwaySent)
                return;
            _goAwaySent = true;
            last = _lastPeerStream;
        }
        await TryWriteAsync(w => Http2FrameWriter.WriteGoAway(w, last, Http2ErrorCode.NoError)).ConfigureAwait(false);
        FinishIfDrained();
    }

    /// <summary>After GOAWAY, the connection ends with its last stream.</summary>
    private void FinishIfDrained()
    {
        bool drained;
        lock (_state)
            drained = _goAwaySent && !_closed && _streams.Count == 0 && _opening == 0;
        if (drained)
            _closing.Cancel();
    }

    /// <summary>
    /// Sends GOAWAY (no error) and ends the connection: open streams hear OnReset. While <see cref="RunAsync"/> runs, it
    /// is stopped and waited for (it completes the transport); so this must not be awaited from a stream's callback.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!IsClosed)
            await TryWriteAsync(w => Http2FrameWriter.WriteGoAway(w, LastPeerStream, Http2ErrorCode.NoError)).ConfigureAwait(false);
        bool running;
        lock (_state)
            running = _running;
        await _closing.CancelAsync().ConfigureAwait(false);
        if (running)
        {
            // The read loop ends the connection on its way out: the transport is not completed under its feet.
            await _runEnded.Task.ConfigureAwait(false);
            return;
        }
        Close(new ObjectDisposedException(nameof(Http2Connection)));
        await CompleteTransportAsync().ConfigureAwait(false);
    }

    /// <summary>Marks the connection closed and tells every open stream, once.</summary>
    private void Close(Exception reason)
    {
        Http2Stream[] open;
        lock (_state)
        {
            if (_closed)
                return;
            _closed = true;
            _closeReason = reason;
            open = [.. _streams.Values];
            _streams.Clear();
            foreach (var stream in open)
                stream.LocalClosed = stream.RemoteClosed = true;
            SignalWindow();
            _controlQueued.Clear();
            _creditQueued?.Clear();
        }
        _peerSettingsCame.TrySetResult(); // a header block waiting for the peer's SETTINGS hears of the end
        foreach (var stream in open)
            Notify(stream, Http2ErrorCode.Cancel, reason);
    }

    /// <summary>
    /// Completes both halves of the transport once the read loop has stopped (the caller's to see to), the output
    /// under the writers' lock: a writer blocked in a flush has it cancelled, and none is left holding the pipe's buffers.
    /// The output first: completing it writes what is buffered, which a stream's pipe reader would otherwise have
    /// closed the stream under (it disposes its stream when completed). A half that fails to complete (a stream pipe
    /// whose stream is gone, with bytes still unflushed) fails quietly: the connection has ended either way, and its
    /// end must still be reported. What a cancelled flush left unwritten is dropped, not written by the completion: the
    /// peer was not taking it (it may never read again), and a stream's pipe writer would write it synchronously, waiting
    /// for the peer, so the connection would never end.
    /// </summary>
    private async Task CompleteTransportAsync()
    {
        var waited = !_writing.Wait(0);
        if (waited)
        {
            _output.CancelPendingFlush();
            await _writing.WaitAsync().ConfigureAwait(false);
        }
        try
        {
            // A writer that cannot say what it holds unflushed: a writer was under way, and its flush may have been cancelled.
            var stuck = _output.CanGetUnflushedBytes ? _output.UnflushedBytes > 0 : waited;
            CompleteQuietly(stuck ? static self => self._output.Complete(new IOException("the connection ended with frames the peer did not take")) : static self => self._output.Complete());
        }
        finally
        {
            _writing.Release();
            CompleteQuietly(static self => self._input.Complete());
        }
    }

    private void CompleteQuietly(Action<Http2Connection> complete)
    {
        try
        {
            complete(this);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // What was left unflushed has nowhere to go.
        }
    }

    private static void Notify(Http2Stream stream, Http2ErrorCode code, Exception? error)
    {
        try
        {
            stream.Handler.OnReset(stream, code, error);
        }
        catch (Exception)
        {
            // An owner's failure to hear of the end must not stop the others from hearing it.
        }
    }
}
