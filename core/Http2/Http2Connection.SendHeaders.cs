namespace FedMesh.Core.Http2;

/// <summary>Header blocks out, encoded in the order they go out.</summary>
internal sealed partial class Http2Connection
{
    /// <summary>Sends a header block, after any writer before.</summary>
    internal async ValueTask SendHeadersAsync(Http2Stream stream, Http2HeaderList fields, bool endStream, CancellationToken token)
    {
        await _writing.WaitAsync(token).ConfigureAwait(false);
        try
        {
            int maxFrame;
            lock (_state)
                BeginHeaders(stream, fields, endStream, out maxFrame, orThrow: true);
            WriteHeaders(stream, fields, endStream, maxFrame);
            await _output.FlushAsync(token).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
        if (endStream)
            Retire(stream);
    }

    /// <summary>
    /// Sends a header block now, on the calling thread, when no other writer holds the connection; false (nothing sent)
    /// otherwise. Flushed with the read loop's batch when there is one (<see cref="Http2WriteBatch"/>), else at once.
    /// </summary>
    internal bool TrySendHeadersNow(Http2Stream stream, Http2HeaderList fields, bool endStream)
    {
        var batch = Http2WriteBatch.Active;
        var held = batch is not null && batch.Holds(this);
        if (!held && !_writing.Wait(0))
            return false;
        int maxFrame;
        bool begun;
        lock (_state)
            begun = BeginHeaders(stream, fields, endStream, out maxFrame, orThrow: false);
        if (!begun)
        {
            if (!held)
                _writing.Release();
            return false; // the async way says why
        }
        WriteHeaders(stream, fields, endStream, maxFrame);
        Written(batch, held);
        if (endStream)
            Retire(stream);
        return true;
    }

    /// <summary>
    /// Under the state lock, with the writer's turn: checks that a header block may go on the stream, and gives a new
    /// client stream its id (in the order streams open on the wire). False, or with <paramref name="orThrow"/> the
    /// reason thrown, when it may not.
    /// </summary>
    private bool BeginHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream, out int maxFrame, bool orThrow)
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

    /// <summary>Encodes a header block (HPACK state follows the order blocks go out: the writer's turn is held) and writes its frames.</summary>
    private void WriteHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream, int maxFrame)
    {
        _block.ResetWrittenCount();
        _encoder.StartBlock(_block);
        for (var i = 0; i < fields.Count; i++)
            _encoder.Encode(_block, fields.Name(i), fields.Value(i), fields.NeverIndexed(i));
        Http2FrameWriter.WriteHeaders(_output, stream.Id, _block.WrittenSpan, endStream, maxFrame);
    }
}
