namespace FedMesh.Core.Http2;

/// <summary>A connection's streams as frames open, change and end them.</summary>
internal sealed partial class Http2Connection
{
    /// <summary>Whether a stream id names a stream neither side has opened yet.</summary>
    private bool IsIdle(int id) => (id % 2 == 1) == _isServer ? id > _lastPeerStream : id >= _nextStreamId;

    private void DeliverHeaders(int id, bool fits, bool endStream)
    {
        Http2Stream? stream;
        var opened = false;
        lock (_state)
        {
            if (!_streams.TryGetValue(id, out stream))
            {
                if (!IsIdle(id))
                {
                    if (CrossedOurEnding(id))
                        return; // dropped, once decoded (the HPACK table has taken it in)
                    throw ClosedStream(id, "HEADERS frame");
                }
                if (!_isServer || id % 2 == 0)
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"HEADERS frame on stream {id}, which the peer may not open");
                _lastPeerStream = id;
                if (_closed || _goAwaySent || _streams.Count >= _options.MaxConcurrentStreams)
                    throw new Http2StreamException(id, Http2ErrorCode.RefusedStream,
                        $"stream {id} refused: {(_streams.Count < _options.MaxConcurrentStreams ? "the connection is closing" : $"{_options.MaxConcurrentStreams} streams are open")}");
                stream = new Http2Stream(this, null!, id)
                {
                    SendWindow = _peer.InitialWindowSize,
                    ReceiveWindow = _options.StreamWindow,
                };
                _streams.Add(id, stream);
                opened = true;
            }
            else if (stream.RemoteClosed)
                throw new Http2StreamException(id, Http2ErrorCode.StreamClosed, $"HEADERS frame on stream {id}, which the peer has ended");
        }
        var trailers = stream.FinalHeaders;
        if (!fits)
            throw new Http2StreamException(id, Http2ErrorCode.ProtocolError,
                $"stream {id}'s header block decodes to more than the {_options.MaxHeaderListSize} octets allowed");
        if (Malformed(_received, request: _isServer, trailers) is { } problem)
            throw new Http2StreamException(id, Http2ErrorCode.ProtocolError, $"stream {id}'s header block is malformed: {problem}");
        if (trailers && !endStream)
            throw new Http2StreamException(id, Http2ErrorCode.ProtocolError, $"stream {id}'s trailers do not end the stream");
        var final = !trailers && (_isServer || !IsInformational(_received));
        if (final)
            TakeContentLength(stream, endStream);
        else if (trailers && stream.ContentLength >= 0 && ContentLengthBroken(stream, 0, endStream: true) is { } missing)
            throw new Http2StreamException(id, Http2ErrorCode.ProtocolError, $"stream {id}'s trailers: {missing}");
        if (opened)
            Deliver(stream, static (stream, accept) => stream.Handler = accept(stream), _accept!);
        if (final)
            stream.FinalHeaders = true;
        if (endStream)
        {
            lock (_state)
                stream.RemoteClosed = true;
        }
        Deliver(stream, static (stream, state) => stream.Handler.OnHeaders(stream, state.Fields, state.EndStream), (Fields: _received, EndStream: endStream));
        if (endStream)
            Retire(stream);
    }

    private void OnReset(in Http2FrameHeader header, Http2ErrorCode code)
    {
        Http2Stream? stream;
        lock (_state)
        {
            if (!_streams.Remove(header.StreamId, out stream))
            {
                if (IsIdle(header.StreamId))
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header}: the stream was never opened");
                return; // ended already
            }
            stream.LocalClosed = stream.RemoteClosed = true;
            TakeBackUnreturned(stream);
            SignalWindow();
        }
        CreditConnection(0);
        Notify(stream, code, null);
        FinishIfDrained();
    }

    private void OnGoAway(Http2GoAway goAway)
    {
        List<Http2Stream> refused = [];
        lock (_state)
        {
            _goAwayLastStream = Math.Min(_goAwayLastStream, goAway.LastStreamId);
            foreach (var (id, stream) in _streams)
            {
                if (id % 2 == 1 != _isServer && id > _goAwayLastStream)
                    refused.Add(stream);
            }
            foreach (var stream in refused)
            {
                _streams.Remove(stream.Id);
                stream.LocalClosed = stream.RemoteClosed = true;
                TakeBackUnreturned(stream);
            }
            SignalWindow();
        }
        if (refused.Count > 0)
            CreditConnection(0);
        foreach (var stream in refused)
            Notify(stream, Http2ErrorCode.RefusedStream, null);
    }

    private void OnWindowUpdate(in Http2FrameHeader header, int increment)
    {
        lock (_state)
        {
            if (header.StreamId == 0)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2Frames.MaxWindowSize)
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"{header} takes the connection's send window past 2^31-1");
            }
            else if (_streams.TryGetValue(header.StreamId, out var stream))
            {
                stream.SendWindow += increment;
                if (stream.SendWindow > Http2Frames.MaxWindowSize)
                    throw new Http2StreamException(header.StreamId, Http2ErrorCode.FlowControlError, $"{header} takes the stream's send window past 2^31-1");
            }
            else if (IsIdle(header.StreamId))
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header}: the stream was never opened");
            SignalWindow();
        }
    }

    /// <summary>
    /// A stream error: the stream is reset (RST_STREAM with the error's code, sent without waiting: see SendControl) and
    /// its owner told; the data the error dropped, and what the owner had not given back, go back to the connection's window.
    /// </summary>
    private void ResetAfterError(Http2StreamException error)
    {
        Http2Stream? stream;
        lock (_state)
        {
            if (_streams.Remove(error.StreamId, out stream))
            {
                stream.LocalClosed = stream.RemoteClosed = true;
                TakeBackUnreturned(stream);
            }
            RememberReset(error.StreamId); // what the peer sent before it hears of the reset is ignored
            SignalWindow();
        }
        try
        {
            SendControl(new ControlFrame(Http2FrameType.RstStream, error.StreamId, (ulong)error.ErrorCode));
            CreditConnection(0);
        }
        finally
        {
            // Told even when the connection ends under the write: the stream is no longer among those its end tells.
            if (stream is not null && stream.Handler is not null)
                Notify(stream, error.ErrorCode, error);
        }
        FinishIfDrained();
    }

    /// <summary>Drops a stream both sides have ended.</summary>
    private void Retire(Http2Stream stream)
    {
        lock (_state)
        {
            if (stream.LocalClosed && stream.RemoteClosed)
                _streams.Remove(stream.Id);
        }
        FinishIfDrained();
    }
}
