using System.Runtime.ExceptionServices;

namespace FedMesh.Core.Http2;

/// <summary>
/// Header blocks out: encoded in the order they go out, each checked first against the peer's
/// SETTINGS_MAX_HEADER_LIST_SIZE, so that one it would refuse is never sent, not even in part. Until the peer's first
/// SETTINGS have come that limit is unknown (the RFC's initial value is "unlimited", so nothing sent then is an error,
/// but the peer may be about to announce a limit): a block up to <see cref="UnsettledHeaderListSize"/> goes at once, as
/// nearly every peer takes that much (no round trip added to an ordinary first request), and a larger one waits for the
/// SETTINGS, at most <see cref="Http2ConnectionOptions.SettingsTimeout"/>, to be sent or refused by the limit they carry.
/// </summary>
internal sealed partial class Http2Connection
{
    /// <summary>What RFC 9113 §6.5.2 counts of each field besides its name and value.</summary>
    private const int FieldOverhead = 32;

    /// <summary>The largest header list (RFC 9113 §6.5.2 sizing) sent before the peer's SETTINGS have come: 16 KiB.</summary>
    internal const int UnsettledHeaderListSize = 16 * 1024;

    /// <summary>
    /// Sends a header block, after any writer before. One larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE is not
    /// sent: <see cref="Http2HeaderListTooLargeException"/> is thrown, its stream reset with INTERNAL_ERROR (a client's
    /// stream not opened yet is never opened).
    /// </summary>
    internal async ValueTask SendHeadersAsync(Http2Stream stream, Http2HeaderList fields, bool endStream, CancellationToken token)
    {
        var size = HeaderListSize(fields);
        if (size > UnsettledHeaderListSize && !_peerSettingsCame.Task.IsCompleted)
            await AwaitPeerSettingsAsync(size, token).ConfigureAwait(false);
        Http2HeaderListTooLargeException? refused = null;
        await _writing.WaitAsync(token).ConfigureAwait(false);
        try
        {
            WriteQueuedControl(); // a SETTINGS acknowledgement that waits changes the encoder's table first
            int maxFrame;
            lock (_state)
                BeginHeaders(stream, fields, size, endStream, out maxFrame, orThrow: true);
            WriteHeaders(stream, fields, endStream, maxFrame);
            await _output.FlushAsync(token).ConfigureAwait(false);
        }
        catch (Http2HeaderListTooLargeException e)
        {
            refused = e;
            // The writer's turn is still held: the reset goes out whole, after whole frames only (and the control frames
            // written ahead of the block, which go either way).
            if (e.StreamId != 0)
                Http2FrameWriter.WriteRstStream(_output, e.StreamId, e.ErrorCode);
            await FlushQuietlyAsync().ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
        if (refused is not null)
        {
            CreditConnection(0); // a reset stream's data its owner had not given back
            FinishIfDrained();
            ExceptionDispatchInfo.Throw(refused);
        }
        if (endStream)
            Retire(stream);
    }

    /// <summary>
    /// Waits for the peer's first SETTINGS before a header block of <paramref name="size"/> octets, past
    /// <see cref="UnsettledHeaderListSize"/>, goes: at most the settings timeout, on the connection's clock. Throws when
    /// the connection ends first (<see cref="IOException"/>) or the time is up (<see cref="TimeoutException"/>); nothing
    /// was sent, and a new client stream was not opened (its owner resets it, as after any failed send).
    /// </summary>
    private async Task AwaitPeerSettingsAsync(long size, CancellationToken token)
    {
        var came = _peerSettingsCame.Task;
        var timeout = _options.SettingsTimeout;
        try
        {
            await (timeout == Timeout.InfiniteTimeSpan ? came.WaitAsync(token) : came.WaitAsync(timeout, _options.TimeProvider, token)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"a header block of {size} octets was not sent: blocks past {UnsettledHeaderListSize} octets wait for the peer's "
                + $"SETTINGS (its SETTINGS_MAX_HEADER_LIST_SIZE), and none came within {timeout.TotalSeconds:0.###} s (Http2ConnectionOptions.SettingsTimeout)");
        }
        lock (_state)
        {
            if (_closed && !_peerSettingsApplied)
                throw new IOException($"the HTTP/2 connection ended before the peer's SETTINGS came: a header block of {size} octets, which waited "
                    + $"for them (its SETTINGS_MAX_HEADER_LIST_SIZE) as blocks past {UnsettledHeaderListSize} octets do, was not sent", _closeReason);
        }
    }

    /// <summary>
    /// Sends a header block now, on the calling thread, when no other writer holds the connection; false (nothing sent)
    /// otherwise. Flushed with the read loop's batch when there is one (<see cref="Http2WriteBatch"/>), else at once.
    /// </summary>
    internal bool TrySendHeadersNow(Http2Stream stream, Http2HeaderList fields, bool endStream)
    {
        var size = HeaderListSize(fields);
        if ((size > UnsettledHeaderListSize && !_peerSettingsCame.Task.IsCompleted) || !TryTakeTurn(out var batch, out var held))
            return false; // a large block before the peer's SETTINGS: the async way waits for them
        int maxFrame;
        bool begun;
        lock (_state)
            begun = BeginHeaders(stream, fields, size, endStream, out maxFrame, orThrow: false);
        if (!begun)
        {
            if (!held)
                _writing.Release();
            return false; // the async way says why
        }
        WriteQueuedControl();
        WriteHeaders(stream, fields, endStream, maxFrame);
        Written(batch, held);
        if (endStream)
            Retire(stream);
        return true;
    }

    /// <summary>
    /// Under the state lock, with the writer's turn: checks that a header block may go on the stream, and gives a new
    /// client stream its id (in the order streams open on the wire). False, or with <paramref name="orThrow"/> the
    /// reason thrown, when it may not. A block past the peer's header list limit ends its stream here (the caller sends
    /// the reset): it would be refused by the peer, and a stream that lost its head or trailers has no way on.
    /// </summary>
    private bool BeginHeaders(Http2Stream stream, Http2HeaderList fields, long size, bool endStream, out int maxFrame, bool orThrow)
    {
        maxFrame = 0;
        if (_closed || stream.LocalClosed || (stream.Id != 0 && !_streams.ContainsKey(stream.Id)) || (stream.Id == 0 && _goAwayLastStream != int.MaxValue))
        {
            if (!orThrow)
                return false;
            if (stream.Id == 0 && !_closed && !stream.LocalClosed)
            {
                _opening--; // once: a refused stream is closed, and a later send or reset takes nothing back
                stream.LocalClosed = stream.RemoteClosed = true;
                throw new Http2StreamException(0, Http2ErrorCode.RefusedStream, "the server said GOAWAY before the stream opened");
            }
            ThrowIfEnded(stream);
        }
        if (size > _peer.MaxHeaderListSize)
        {
            if (!orThrow)
                return false;
            throw RefuseOversized(stream, size);
        }
        if (stream.Id == 0)
        {
            _opening--;
            stream.Id = _nextStreamId;
            _nextStreamId += 2;
            stream.SendWindow = _peer.InitialWindowSize;
            stream.ReceiveWindow = _options.StreamWindow;
            var method = fields[":method"u8];
            stream.ResponseUnsized = method.SequenceEqual("HEAD"u8) || method.SequenceEqual("CONNECT"u8);
            _streams.Add(stream.Id, stream);
        }
        if (endStream)
            stream.LocalClosed = true;
        maxFrame = _peer.MaxFrameSize;
        return true;
    }

    /// <summary>Under the state lock: ends a stream whose header block is past the peer's limit, and says so.</summary>
    private Http2HeaderListTooLargeException RefuseOversized(Http2Stream stream, long size)
    {
        var limit = _peer.MaxHeaderListSize;
        var id = stream.Id;
        if (id == 0)
            _opening--; // never opened: nothing goes out
        else
        {
            _streams.Remove(id);
            TakeBackUnreturned(stream);
            RememberReset(id);
            SignalWindow();
        }
        stream.LocalClosed = stream.RemoteClosed = true;
        return new Http2HeaderListTooLargeException(id, size, limit,
            $"{(id == 0 ? "a new stream's first header block" : $"{stream}'s header block")} was not sent: its header list is {size} octets (names and values, and {FieldOverhead} a field: RFC 9113 §6.5.2), past the "
            + $"peer's SETTINGS_MAX_HEADER_LIST_SIZE of {limit}; {(id == 0 ? "the stream was not opened" : "the stream was reset (INTERNAL_ERROR)")}");
    }

    /// <summary>A header list's size as SETTINGS_MAX_HEADER_LIST_SIZE counts it (RFC 9113 §6.5.2).</summary>
    internal static long HeaderListSize(Http2HeaderList fields)
    {
        long size = 0;
        for (var i = 0; i < fields.Count; i++)
            size += fields.Name(i).Length + fields.Value(i).Length + FieldOverhead;
        return size;
    }

    /// <summary>Encodes a header block (HPACK state follows the order blocks go out: the writer's turn is held) and writes its frames.</summary>
    private void WriteHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream, int maxFrame)
    {
        _block.ResetWrittenCount();
        _encoder.StartBlock(_block);
        for (var i = 0; i < fields.Count; i++)
            _encoder.Encode(_block, fields.Name(i), fields.Value(i), fields.NeverIndexed(i));
        Http2FrameWriter.WriteHeaders(_output, stream.Id, _block.WrittenSpan, endStream, maxFrame);
    }

    /// <summary>With the writer's turn: flushes what was written; a connection that can no longer take it ends by its read loop.</summary>
    private async Task FlushQuietlyAsync()
    {
        try
        {
            using var bounded = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await _output.FlushAsync(bounded.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or IOException or ObjectDisposedException)
        {
            // The peer is gone or not reading.
        }
    }
}
