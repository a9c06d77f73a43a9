using System.Buffers.Binary;

namespace FedMesh.Core.Http2;

/// <summary>The frame types of RFC 9113 §6; any other value is an extension frame, which a receiver ignores (§5.5).</summary>
internal enum Http2FrameType : byte
{
    Data = 0x0,
    Headers = 0x1,
    Priority = 0x2,
    RstStream = 0x3,
    Settings = 0x4,
    PushPromise = 0x5,
    Ping = 0x6,
    GoAway = 0x7,
    WindowUpdate = 0x8,
    Continuation = 0x9,
}

/// <summary>The frame flags of RFC 9113 §6; each means something only on the frame types that define it.</summary>
[Flags]
internal enum Http2Flags : byte
{
    None = 0x0,
    /// <summary>DATA, HEADERS: the sender's last frame on the stream.</summary>
    EndStream = 0x1,
    /// <summary>SETTINGS, PING: the answer to the peer's frame (the same bit as <see cref="EndStream"/>).</summary>
    Ack = 0x1,
    /// <summary>HEADERS, PUSH_PROMISE, CONTINUATION: the field block ends in this frame.</summary>
    EndHeaders = 0x4,
    /// <summary>DATA, HEADERS, PUSH_PROMISE: a pad length octet leads the payload and padding ends it.</summary>
    Padded = 0x8,
    /// <summary>HEADERS: 5 octets of (deprecated) priority signalling follow the pad length.</summary>
    Priority = 0x20,
}

/// <summary>The error codes of RFC 9113 §7, carried by RST_STREAM and GOAWAY.</summary>
internal enum Http2ErrorCode : uint
{
    NoError = 0x0,
    ProtocolError = 0x1,
    InternalError = 0x2,
    FlowControlError = 0x3,
    SettingsTimeout = 0x4,
    StreamClosed = 0x5,
    FrameSizeError = 0x6,
    RefusedStream = 0x7,
    Cancel = 0x8,
    CompressionError = 0x9,
    ConnectError = 0xa,
    EnhanceYourCalm = 0xb,
    InadequateSecurity = 0xc,
    Http11Required = 0xd,
}

/// <summary>Constants of the HTTP/2 wire format (RFC 9113) that more than one part of the frame layer needs.</summary>
internal static class Http2Frames
{
    /// <summary>What a client sends before its first frame (§3.4); a server that reads anything else is not talking HTTP/2.</summary>
    public static ReadOnlySpan<byte> ConnectionPreface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>The smallest SETTINGS_MAX_FRAME_SIZE, and its initial value: every peer accepts frames this large.</summary>
    public const int MinMaxFrameSize = 16_384;

    /// <summary>The largest SETTINGS_MAX_FRAME_SIZE (2^24 − 1: the length field's range).</summary>
    public const int MaxMaxFrameSize = 16_777_215;

    /// <summary>The largest flow-control window and window increment (2^31 − 1).</summary>
    public const int MaxWindowSize = int.MaxValue;

    /// <summary>The frame type's name as RFC 9113 writes it, for error messages.</summary>
    public static string Name(Http2FrameType type) => type switch
    {
        Http2FrameType.Data => "DATA",
        Http2FrameType.Headers => "HEADERS",
        Http2FrameType.Priority => "PRIORITY",
        Http2FrameType.RstStream => "RST_STREAM",
        Http2FrameType.Settings => "SETTINGS",
        Http2FrameType.PushPromise => "PUSH_PROMISE",
        Http2FrameType.Ping => "PING",
        Http2FrameType.GoAway => "GOAWAY",
        Http2FrameType.WindowUpdate => "WINDOW_UPDATE",
        Http2FrameType.Continuation => "CONTINUATION",
        _ => $"frame type 0x{(byte)type:x2}",
    };
}

/// <summary>
/// The 9-octet header every frame starts with (RFC 9113 §4.1): a 24-bit payload length, type, flags and a 31-bit stream
/// identifier. The reserved bit before the identifier is dropped on read and never sent.
/// </summary>
internal readonly record struct Http2FrameHeader(int Length, Http2FrameType Type, Http2Flags Flags, int StreamId)
{
    public const int Size = 9;

    /// <summary>Whether every bit of <paramref name="flag"/> is set.</summary>
    public bool Has(Http2Flags flag) => (Flags & flag) == flag;

    /// <summary>Reads a header from the first <see cref="Size"/> octets of <paramref name="source"/>.</summary>
    public static Http2FrameHeader Read(ReadOnlySpan<byte> source)
    {
        var length = source[0] << 16 | source[1] << 8 | source[2];
        var streamId = (int)(BinaryPrimitives.ReadUInt32BigEndian(source[5..Size]) & 0x7FFF_FFFF);
        return new Http2FrameHeader(length, (Http2FrameType)source[3], (Http2Flags)source[4], streamId);
    }

    /// <summary>Writes the header into the first <see cref="Size"/> octets of <paramref name="destination"/>.</summary>
    public void Write(Span<byte> destination)
    {
        if ((uint)Length > Http2Frames.MaxMaxFrameSize)
            throw new ArgumentOutOfRangeException(nameof(Length), Length, "a frame's length must fit in 24 bits");
        destination[0] = (byte)(Length >> 16);
        destination[1] = (byte)(Length >> 8);
        destination[2] = (byte)Length;
        destination[3] = (byte)Type;
        destination[4] = (byte)Flags;
        BinaryPrimitives.WriteUInt32BigEndian(destination[5..Size], (uint)StreamId & 0x7FFF_FFFF);
    }

    public override string ToString() => $"{Http2Frames.Name(Type)} frame on stream {StreamId} ({Length} octets, flags 0x{(byte)Flags:x2})";
}
