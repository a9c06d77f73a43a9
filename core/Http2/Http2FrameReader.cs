using System.Buffers;

namespace FedMesh.Core.Http2;

/// <summary>What a GOAWAY frame says (RFC 9113 §6.8); <paramref name="DebugData"/> is a slice of the frame's payload, valid as long as it is.</summary>
internal readonly record struct Http2GoAway(int LastStreamId, Http2ErrorCode ErrorCode, ReadOnlySequence<byte> DebugData);

/// <summary>
/// Cuts frames off received bytes and reads their payloads (RFC 9113 §4, §6), checking what the RFC lets a single
/// frame be and throwing <see cref="Http2ConnectionException"/> or <see cref="Http2StreamException"/> as it says.
/// Payloads stay slices of the received buffer: nothing is copied or allocated on the way. What depends on the
/// connection's state (stream states, header block sequencing, flow-control windows) is left to the connection.
/// </summary>
internal static class Http2FrameReader
{
    /// <summary>
    /// Takes the first frame off <paramref name="buffer"/> and advances it past the frame; false, with
    /// <paramref name="buffer"/> untouched, while the frame has not all arrived. A frame longer than
    /// <paramref name="maxFrameSize"/> (our SETTINGS_MAX_FRAME_SIZE) is a connection error as soon as its header arrives.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFrameSize, out Http2FrameHeader header,
        out ReadOnlySequence<byte> payload)
    {
        payload = default;
        header = default;
        if (buffer.Length < Http2FrameHeader.Size)
            return false;
        var first = buffer.FirstSpan;
        if (first.Length >= Http2FrameHeader.Size)
        {
            header = Http2FrameHeader.Read(first);
        }
        else
        {
            Span<byte> copy = stackalloc byte[Http2FrameHeader.Size];
            buffer.Slice(0, Http2FrameHeader.Size).CopyTo(copy);
            header = Http2FrameHeader.Read(copy);
        }
        if (header.Length > maxFrameSize)
            throw Connection(Http2ErrorCode.FrameSizeError, header, $"the length {header.Length} is above the maximum frame size {maxFrameSize}");
        if (buffer.Length - Http2FrameHeader.Size < header.Length)
        {
            header = default;
            return false;
        }
        payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        buffer = buffer.Slice(payload.End);
        return true;
    }

    /// <summary>
    /// A DATA frame's data, its padding removed (§6.1). Flow control counts the whole frame: charge
    /// <see cref="Http2FrameHeader.Length"/>, not what this returns.
    /// </summary>
    public static ReadOnlySequence<byte> ReadData(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        return Unpad(header, payload, 0);
    }

    /// <summary>A HEADERS frame's field block fragment (§6.2), without its padding and priority fields (priority is not acted on).</summary>
    public static ReadOnlySequence<byte> ReadHeaders(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        return Unpad(header, payload, header.Has(Http2Flags.Priority) ? 5 : 0);
    }

    /// <summary>A CONTINUATION frame's field block fragment (§6.10); that it follows its HEADERS is for the connection to check.</summary>
    public static ReadOnlySequence<byte> ReadContinuation(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        return payload;
    }

    /// <summary>
    /// The sender's settings after its SETTINGS frame (§6.5) is applied to <paramref name="current"/>, in the frame's
    /// order; unknown identifiers are ignored. An ACK changes nothing and returns <paramref name="current"/>.
    /// </summary>
    public static Http2Settings ReadSettings(in Http2FrameHeader header, ReadOnlySequence<byte> payload, in Http2Settings current)
    {
        RequireConnectionStream(header);
        if (header.Has(Http2Flags.Ack))
        {
            if (!payload.IsEmpty)
                throw Connection(Http2ErrorCode.FrameSizeError, header, $"an ACK must be empty, this one has {payload.Length} octets");
            return current;
        }
        if (payload.Length % 6 != 0)
            throw Connection(Http2ErrorCode.FrameSizeError, header, $"the length {payload.Length} is not a multiple of 6");
        var reader = new SequenceReader<byte>(payload);
        var settings = current;
        while (reader.TryReadBigEndian(out short id) && reader.TryReadBigEndian(out int value))
            settings = settings.With((Http2SettingId)(ushort)id, (uint)value);
        return settings;
    }

    /// <summary>The error code of an RST_STREAM frame (§6.4).</summary>
    public static Http2ErrorCode ReadRstStream(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        return (Http2ErrorCode)ReadUInt32(header, payload, 4);
    }

    /// <summary>
    /// The increment of a WINDOW_UPDATE frame (§6.9), for the connection's window on stream 0 and the stream's otherwise.
    /// An increment of 0 is an error of the window it was for.
    /// </summary>
    public static int ReadWindowUpdate(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        var increment = (int)(ReadUInt32(header, payload, 4) & 0x7FFF_FFFF);
        if (increment != 0)
            return increment;
        const string zero = "the window size increment is 0";
        if (header.StreamId == 0)
            throw Connection(Http2ErrorCode.ProtocolError, header, zero);
        throw new Http2StreamException(header.StreamId, Http2ErrorCode.ProtocolError, Where(header, zero));
    }

    /// <summary>The 8 opaque octets of a PING frame (§6.7), big-endian, to send back in the ACK.</summary>
    public static ulong ReadPing(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        RequireConnectionStream(header);
        RequireLength(header, payload, 8);
        var reader = new SequenceReader<byte>(payload);
        reader.TryReadBigEndian(out long data);
        return (ulong)data;
    }

    /// <summary>What a GOAWAY frame (§6.8) says; its debug data stays a slice of <paramref name="payload"/>.</summary>
    public static Http2GoAway ReadGoAway(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        RequireConnectionStream(header);
        if (payload.Length < 8)
            throw Connection(Http2ErrorCode.FrameSizeError, header, $"the payload is {payload.Length} octets, less than the 8 of its fixed fields");
        var reader = new SequenceReader<byte>(payload);
        reader.TryReadBigEndian(out int lastStreamId);
        reader.TryReadBigEndian(out int errorCode);
        return new Http2GoAway(lastStreamId & 0x7FFF_FFFF, (Http2ErrorCode)errorCode, payload.Slice(8));
    }

    /// <summary>Checks a PRIORITY frame (§6.3), whose content a receiver may ignore and this one does.</summary>
    public static void ReadPriority(in Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        RequireStream(header);
        if (payload.Length != 5)
            throw new Http2StreamException(header.StreamId, Http2ErrorCode.FrameSizeError, Where(header, $"the payload is {payload.Length} octets, not 5"));
    }

    /// <summary>What is left of a padded frame's payload after its pad length octet, <paramref name="skip"/> octets of other fields and its padding.</summary>
    private static ReadOnlySequence<byte> Unpad(in Http2FrameHeader header, ReadOnlySequence<byte> payload, int skip)
    {
        var start = 0;
        byte padLength = 0;
        if (header.Has(Http2Flags.Padded))
        {
            if (!new SequenceReader<byte>(payload).TryRead(out padLength))
                throw Connection(Http2ErrorCode.FrameSizeError, header, "the PADDED flag is set on an empty payload, which has no pad length");
            start = 1;
        }
        if (payload.Length - start < skip)
            throw Connection(Http2ErrorCode.FrameSizeError, header, $"the payload is {payload.Length} octets, too short for the {skip} octets of the PRIORITY flag");
        var left = payload.Length - start - skip;
        if (padLength > left)
            throw Connection(Http2ErrorCode.ProtocolError, header,
                $"the pad length {padLength} does not fit: only {left} of the payload's {payload.Length} octets follow the fields before the padding");
        return payload.Slice(start + skip, left - padLength);
    }

    private static uint ReadUInt32(in Http2FrameHeader header, ReadOnlySequence<byte> payload, int length)
    {
        RequireLength(header, payload, length);
        var reader = new SequenceReader<byte>(payload);
        reader.TryReadBigEndian(out int value);
        return (uint)value;
    }

    private static void RequireLength(in Http2FrameHeader header, ReadOnlySequence<byte> payload, int length)
    {
        if (payload.Length != length)
            throw Connection(Http2ErrorCode.FrameSizeError, header, $"the payload is {payload.Length} octets, not {length}");
    }

    private static void RequireStream(in Http2FrameHeader header)
    {
        if (header.StreamId == 0)
            throw Connection(Http2ErrorCode.ProtocolError, header, "it belongs to a stream and may not be sent on stream 0");
    }

    private static void RequireConnectionStream(in Http2FrameHeader header)
    {
        if (header.StreamId != 0)
            throw Connection(Http2ErrorCode.ProtocolError, header, "it belongs to the connection and must be sent on stream 0");
    }

    private static Http2ConnectionException Connection(Http2ErrorCode code, in Http2FrameHeader header, string what) =>
        new(code, Where(header, what));

    private static string Where(in Http2FrameHeader header, string what) =>
        $"{Http2Frames.Name(header.Type)} frame on stream {header.StreamId}: {what}";
}
