using System.Buffers;
using System.Buffers.Binary;

namespace FedMesh.Core.Http2;

/// <summary>
/// Writes frames (RFC 9113 §6) into a buffer writer, such as a connection's output pipe; flushing is the caller's.
/// Payloads are copied in as they are, in the pieces the writer offers, so a large DATA frame never needs one large
/// buffer. What the RFC leaves to the connection (flow-control windows, stream states) is the caller's to respect;
/// arguments no peer could accept throw <see cref="ArgumentException"/>, as they are our bug, not the peer's.
/// </summary>
internal static class Http2FrameWriter
{
    /// <summary>A SETTINGS frame (§6.5) that sets the given values, in order; the peer answers it with an ACK.</summary>
    public static void WriteSettings(IBufferWriter<byte> writer, ReadOnlySpan<Http2Setting> settings)
    {
        foreach (var setting in settings)
        {
            if (Http2Settings.Check(setting.Id, setting.Value) != Http2ErrorCode.NoError)
                throw new ArgumentOutOfRangeException(nameof(settings), Http2Settings.Describe(setting.Id, setting.Value));
        }
        if (settings.Length > Http2Frames.MinMaxFrameSize / 6)
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Length, "more settings than a frame every peer accepts can hold");
        var header = new Http2FrameHeader(settings.Length * 6, Http2FrameType.Settings, Http2Flags.None, 0);
        var payload = Begin(writer, header);
        foreach (var setting in settings)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)setting.Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload[2..], setting.Value);
            payload = payload[6..];
        }
        End(writer, header);
    }

    /// <summary>The empty SETTINGS frame with ACK (§6.5.3) that says the peer's settings are now in force.</summary>
    public static void WriteSettingsAck(IBufferWriter<byte> writer)
    {
        var header = new Http2FrameHeader(0, Http2FrameType.Settings, Http2Flags.Ack, 0);
        Begin(writer, header);
        End(writer, header);
    }

    /// <summary>A WINDOW_UPDATE frame (§6.9) for the connection's window (stream 0) or a stream's.</summary>
    public static void WriteWindowUpdate(IBufferWriter<byte> writer, int streamId, int increment)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(streamId);
        ArgumentOutOfRangeException.ThrowIfLessThan(increment, 1);
        WriteUInt32(writer, new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2Flags.None, streamId), (uint)increment);
    }

    /// <summary>A PING frame (§6.7) carrying <paramref name="data"/>, which the peer sends back in its ACK.</summary>
    public static void WritePing(IBufferWriter<byte> writer, ulong data) => WritePing(writer, data, Http2Flags.None);

    /// <summary>The answer to the peer's PING (§6.7): its <paramref name="data"/> sent back with ACK.</summary>
    public static void WritePingAck(IBufferWriter<byte> writer, ulong data) => WritePing(writer, data, Http2Flags.Ack);

    /// <summary>An RST_STREAM frame (§6.4) that ends <paramref name="streamId"/> at once with <paramref name="errorCode"/>.</summary>
    public static void WriteRstStream(IBufferWriter<byte> writer, int streamId, Http2ErrorCode errorCode)
    {
        RequireStream(streamId);
        WriteUInt32(writer, new Http2FrameHeader(4, Http2FrameType.RstStream, Http2Flags.None, streamId), (uint)errorCode);
    }

    /// <summary>
    /// A GOAWAY frame (§6.8): no stream above <paramref name="lastStreamId"/> will be processed. The debug data, for
    /// diagnostics only, is limited to what fits a frame of the smallest maximum size.
    /// </summary>
    public static void WriteGoAway(IBufferWriter<byte> writer, int lastStreamId, Http2ErrorCode errorCode, ReadOnlySpan<byte> debugData = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(lastStreamId);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(debugData.Length, Http2Frames.MinMaxFrameSize - 8, nameof(debugData));
        var header = new Http2FrameHeader(8 + debugData.Length, Http2FrameType.GoAway, Http2Flags.None, 0);
        var payload = Begin(writer, header);
        BinaryPrimitives.WriteInt32BigEndian(payload, lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload[4..], (uint)errorCode);
        debugData.CopyTo(payload[8..]);
        End(writer, header);
    }

    /// <summary>
    /// <paramref name="data"/> as DATA frames (§6.1) of at most <paramref name="maxFrameSize"/> (the peer's
    /// SETTINGS_MAX_FRAME_SIZE), END_STREAM on the last when <paramref name="endStream"/>. Empty data is one empty frame
    /// with END_STREAM, or nothing without it.
    /// </summary>
    public static void WriteData(IBufferWriter<byte> writer, int streamId, ReadOnlySpan<byte> data, bool endStream, int maxFrameSize)
    {
        if (!data.IsEmpty || endStream)
            WriteSplit(writer, streamId, maxFrameSize, data, default, Http2FrameType.Data, Http2Flags.None, Http2FrameType.Data, EndStream(endStream));
    }

    /// <inheritdoc cref="WriteData(IBufferWriter{byte}, int, ReadOnlySpan{byte}, bool, int)"/>
    public static void WriteData(IBufferWriter<byte> writer, int streamId, ReadOnlySequence<byte> data, bool endStream, int maxFrameSize)
    {
        if (!data.IsEmpty || endStream)
            WriteSplit(writer, streamId, maxFrameSize, default, data, Http2FrameType.Data, Http2Flags.None, Http2FrameType.Data, EndStream(endStream));
    }

    /// <summary>
    /// An encoded field block as a HEADERS frame (§6.2) and as many CONTINUATION frames (§6.10) as
    /// <paramref name="maxFrameSize"/> (the peer's SETTINGS_MAX_FRAME_SIZE) asks for, END_HEADERS on the last;
    /// END_STREAM, when <paramref name="endStream"/>, on the HEADERS frame (§8.1). Nothing may be written between them.
    /// </summary>
    public static void WriteHeaders(IBufferWriter<byte> writer, int streamId, ReadOnlySpan<byte> fieldBlock, bool endStream, int maxFrameSize) =>
        WriteSplit(writer, streamId, maxFrameSize, fieldBlock, default, Http2FrameType.Headers, EndStream(endStream), Http2FrameType.Continuation,
            Http2Flags.EndHeaders);

    /// <summary>
    /// Cuts the payload (<paramref name="span"/>, or <paramref name="sequence"/> when that is not empty) into frames of at
    /// most <paramref name="maxFrameSize"/>: at least one, the first of <paramref name="firstType"/> with
    /// <paramref name="firstFlags"/>, the rest of <paramref name="restType"/>, the last with <paramref name="lastFlags"/> too.
    /// </summary>
    private static void WriteSplit(IBufferWriter<byte> writer, int streamId, int maxFrameSize, ReadOnlySpan<byte> span, ReadOnlySequence<byte> sequence,
        Http2FrameType firstType, Http2Flags firstFlags, Http2FrameType restType, Http2Flags lastFlags)
    {
        RequireStream(streamId);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFrameSize, Http2Frames.MinMaxFrameSize);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxFrameSize, Http2Frames.MaxMaxFrameSize);
        var fromSequence = !sequence.IsEmpty;
        var left = fromSequence ? sequence.Length : span.Length;
        var type = firstType;
        var flags = firstFlags;
        do
        {
            var length = (int)Math.Min(left, maxFrameSize);
            left -= length;
            var header = new Http2FrameHeader(length, type, left == 0 ? flags | lastFlags : flags, streamId);
            header.Write(writer.GetSpan(Http2FrameHeader.Size));
            writer.Advance(Http2FrameHeader.Size);
            if (fromSequence)
            {
                foreach (var piece in sequence.Slice(0, length))
                    writer.Write(piece.Span);
                sequence = sequence.Slice(length);
            }
            else
            {
                writer.Write(span[..length]);
                span = span[length..];
            }
            type = restType;
            flags = Http2Flags.None;
        }
        while (left > 0);
    }

    private static Http2Flags EndStream(bool endStream) => endStream ? Http2Flags.EndStream : Http2Flags.None;

    private static void WritePing(IBufferWriter<byte> writer, ulong data, Http2Flags flags)
    {
        var header = new Http2FrameHeader(8, Http2FrameType.Ping, flags, 0);
        BinaryPrimitives.WriteUInt64BigEndian(Begin(writer, header), data);
        End(writer, header);
    }

    private static void WriteUInt32(IBufferWriter<byte> writer, in Http2FrameHeader header, uint value)
    {
        BinaryPrimitives.WriteUInt32BigEndian(Begin(writer, header), value);
        End(writer, header);
    }

    /// <summary>Writes a small frame's header and returns where its payload goes; <see cref="End"/> commits both.</summary>
    private static Span<byte> Begin(IBufferWriter<byte> writer, in Http2FrameHeader header)
    {
        var span = writer.GetSpan(Http2FrameHeader.Size + header.Length);
        header.Write(span);
        return span.Slice(Http2FrameHeader.Size, header.Length);
    }

    private static void End(IBufferWriter<byte> writer, in Http2FrameHeader header) => writer.Advance(Http2FrameHeader.Size + header.Length);

    private static void RequireStream(int streamId) => ArgumentOutOfRangeException.ThrowIfLessThan(streamId, 1);
}
