using System.Buffers;

namespace FedMesh.Core.Http2;

/// <summary>The read loop's side of a connection: each frame checked against the connection's state and acted on.</summary>
internal sealed partial class Http2Connection
{
    private void Process(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_fragmentStream != 0 && (header.Type != Http2FrameType.Continuation || header.StreamId != _fragmentStream))
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError,
                $"{header} arrived where a CONTINUATION frame of stream {_fragmentStream}'s header block must come");
        try
        {
            switch (header.Type)
            {
                case Http2FrameType.Data:
                    OnData(header, payload);
                    return;
                case Http2FrameType.Headers:
                    OnHeaders(header, Http2FrameReader.ReadHeaders(header, payload), header.Has(Http2Flags.EndStream));
                    return;
                case Http2FrameType.Continuation:
                    if (_fragmentStream == 0)
                        throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header} follows no HEADERS frame");
                    OnHeaders(header, Http2FrameReader.ReadContinuation(header, payload), _fragmentEndsStream);
                    return;
                case Http2FrameType.RstStream:
                    OnReset(header, Http2FrameReader.ReadRstStream(header, payload));
                    return;
                case Http2FrameType.Settings:
                    OnSettings(header, payload);
                    return;
                case Http2FrameType.Ping:
                    var ping = Http2FrameReader.ReadPing(header, payload);
                    if (!header.Has(Http2Flags.Ack))
                        SendControl(new ControlFrame(Http2FrameType.Ping, 0, ping));
                    return;
                case Http2FrameType.GoAway:
                    OnGoAway(Http2FrameReader.ReadGoAway(header, payload));
                    return;
                case Http2FrameType.WindowUpdate:
                    OnWindowUpdate(header, Http2FrameReader.ReadWindowUpdate(header, payload));
                    return;
                case Http2FrameType.Priority:
                    Http2FrameReader.ReadPriority(header, payload);
                    return;
                case Http2FrameType.PushPromise:
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header}: push is disabled (SETTINGS_ENABLE_PUSH 0)");
                default:
                    return; // an extension frame: ignored (§5.5)
            }
        }
        catch (Http2StreamException e)
        {
            ResetAfterError(e);
        }
    }

    private void OnData(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        var data = Http2FrameReader.ReadData(header, payload);
        var endStream = header.Has(Http2Flags.EndStream);
        Http2Stream? stream;
        lock (_state)
        {
            if (header.Length > _receiveWindow)
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError,
                    $"{header} exceeds the connection's receive window ({_receiveWindow} octets left)");
            _receiveWindow -= header.Length;
            _receiveUncredited += header.Length - (int)data.Length; // padding is passed on to no one
            if (!_streams.TryGetValue(header.StreamId, out stream))
            {
                if (IsIdle(header.StreamId))
                    throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header}: the stream was never opened");
                _receiveUncredited += (int)data.Length; // dropped: the connection's window counted it, and gets it back
                if (!CrossedOurEnding(header.StreamId))
                    throw ClosedStream(header.StreamId, "DATA frame");
            }
            else if (stream.RemoteClosed)
            {
                _receiveUncredited += (int)data.Length;
                throw new Http2StreamException(header.StreamId, Http2ErrorCode.StreamClosed, $"{header}: the peer had ended the stream");
            }
            else if (!stream.FinalHeaders)
            {
                _receiveUncredited += (int)data.Length;
                throw new Http2StreamException(header.StreamId, Http2ErrorCode.ProtocolError, $"{header} comes before the response's head (RFC 9113 §8.1)");
            }
            else
            {
                if (header.Length > stream.ReceiveWindow)
                {
                    _receiveUncredited += (int)data.Length; // dropped with the stream: the connection's window gets it back
                    throw new Http2StreamException(header.StreamId, Http2ErrorCode.FlowControlError,
                        $"{header} exceeds the stream's receive window ({stream.ReceiveWindow} octets left)");
                }
                stream.ReceiveWindow -= header.Length;
                stream.ReceiveUncredited += header.Length - (int)data.Length;
                if (stream.ContentLength >= 0 && ContentLengthBroken(stream, data.Length, endStream) is { } problem)
                {
                    _receiveUncredited += (int)data.Length;
                    throw new Http2StreamException(header.StreamId, Http2ErrorCode.ProtocolError, $"{header}: {problem}");
                }
                if (endStream)
                    stream.RemoteClosed = true;
                stream.Unreturned += (int)data.Length; // the owner's to give back (Consumed), or the connection's at a reset
            }
        }
        if (stream is null)
        {
            CreditConnection(0);
            return;
        }
        Deliver(stream, static (stream, state) => stream.Handler.OnData(stream, state.data, state.endStream), (data, endStream));
        if (endStream)
            Retire(stream);
    }

    /// <summary>
    /// Hands a stream's frame to its owner. An owner that throws (a bug of its own) costs its stream, reset with
    /// INTERNAL_ERROR, not the connection's other streams; what it had not given back of the stream's data goes back to
    /// the connection's window with the reset.
    /// </summary>
    private static void Deliver<TState>(Http2Stream stream, Action<Http2Stream, TState> deliver, TState state)
    {
        try
        {
            deliver(stream, state);
        }
        catch (Exception e) when (e is not Http2Exception and not OutOfMemoryException)
        {
            throw new Http2StreamException(stream.Id, Http2ErrorCode.InternalError, $"{stream}'s owner failed: {e.Message}");
        }
    }

    private void OnHeaders(in Http2FrameHeader header, ReadOnlySequence<byte> fragment, bool endStream)
    {
        if (_fragmentLength + fragment.Length > _options.MaxHeaderListSize * 2L)
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm,
                $"stream {header.StreamId}'s header block passes {_options.MaxHeaderListSize * 2} octets before its end");
        if (_fragments.Length < _fragmentLength + fragment.Length)
            Array.Resize(ref _fragments, (int)Math.Max(_fragmentLength + fragment.Length, 2L * _fragments.Length));
        fragment.CopyTo(_fragments.AsSpan(_fragmentLength));
        _fragmentLength += (int)fragment.Length;
        if (!header.Has(Http2Flags.EndHeaders))
        {
            _fragmentStream = header.StreamId;
            _fragmentEndsStream = endStream;
            return;
        }
        var id = header.StreamId;
        var length = _fragmentLength;
        _fragmentStream = 0;
        _fragmentLength = 0;
        _received.Clear();
        bool fits;
        try
        {
            fits = _decoder.Decode(_fragments.AsSpan(0, length), _received);
        }
        catch (HPackException e)
        {
            throw new Http2ConnectionException(Http2ErrorCode.CompressionError, $"stream {id}'s header block: {e.Message}");
        }
        DeliverHeaders(id, fits, endStream);
    }
}
