using System.Buffers;
using FedMesh.Core.Http2;

namespace FedMesh.Core.Tests.Http2;

/// <summary>One frame as read back: its header and a copy of its payload.</summary>
internal sealed record ReadFrame(Http2FrameHeader Header, byte[] Payload);

/// <summary>Frames as bytes, bytes as sequences of linked segments, and the errors the frame layer throws, for the HTTP/2 tests.</summary>
internal static class Http2TestFrames
{
    /// <summary>A frame's bytes, its header as written by hand (not by <see cref="Http2FrameHeader.Write"/>).</summary>
    public static byte[] Raw(Http2FrameType type, Http2Flags flags, int streamId, params byte[] payload)
    {
        var bytes = new byte[9 + payload.Length];
        bytes[0] = (byte)(payload.Length >> 16);
        bytes[1] = (byte)(payload.Length >> 8);
        bytes[2] = (byte)payload.Length;
        bytes[3] = (byte)type;
        bytes[4] = (byte)flags;
        bytes[5] = (byte)(streamId >> 24);
        bytes[6] = (byte)(streamId >> 16);
        bytes[7] = (byte)(streamId >> 8);
        bytes[8] = (byte)streamId;
        payload.CopyTo(bytes, 9);
        return bytes;
    }

    /// <summary>Big-endian octets of <paramref name="value"/>, the <paramref name="count"/> low ones.</summary>
    public static byte[] BigEndian(ulong value, int count)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
            bytes[i] = (byte)(value >> (8 * (count - 1 - i)));
        return bytes;
    }

    /// <summary>
    /// <paramref name="data"/> as a sequence of linked segments, cut at each of <paramref name="cuts"/> (ascending
    /// offsets; a repeated offset makes an empty segment).
    /// </summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var first = new Segment(data.AsMemory(0, cuts.Length > 0 ? cuts[0] : data.Length), 0);
        var last = first;
        for (var i = 0; i < cuts.Length; i++)
        {
            var end = i + 1 < cuts.Length ? cuts[i + 1] : data.Length;
            last = last.Append(data.AsMemory(cuts[i], end - cuts[i]));
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Every octet a segment of its own, with an empty segment between each two.</summary>
    public static ReadOnlySequence<byte> Shredded(byte[] data)
    {
        var cuts = new List<int>();
        for (var i = 1; i < data.Length; i++)
            cuts.AddRange([i, i]);
        return Split(data, [.. cuts]);
    }

    /// <summary>All frames in <paramref name="bytes"/>, which must end with the last one.</summary>
    public static List<ReadFrame> ReadAll(ReadOnlySequence<byte> bytes, int maxFrameSize = Http2Frames.MinMaxFrameSize)
    {
        var frames = new List<ReadFrame>();
        while (Http2FrameReader.TryReadFrame(ref bytes, maxFrameSize, out var header, out var payload))
            frames.Add(new ReadFrame(header, payload.ToArray()));
        Assert.Equal(0, bytes.Length);
        return frames;
    }

    public static List<ReadFrame> ReadAll(byte[] bytes, int maxFrameSize = Http2Frames.MinMaxFrameSize) =>
        ReadAll(new ReadOnlySequence<byte>(bytes), maxFrameSize);

    /// <summary>The only frame in <paramref name="bytes"/>.</summary>
    public static ReadFrame ReadOne(byte[] bytes, int maxFrameSize = Http2Frames.MinMaxFrameSize) => Assert.Single(ReadAll(bytes, maxFrameSize));

    /// <summary>What <paramref name="write"/> writes.</summary>
    public static byte[] Written(Action<IBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Asserts that <paramref name="action"/> throws a connection error (not a stream error) with <paramref name="code"/>.</summary>
    public static Http2ConnectionException ConnectionError(Http2ErrorCode code, Action action)
    {
        var error = Assert.Throws<Http2ConnectionException>(action);
        Assert.Equal(code, error.ErrorCode);
        return error;
    }

    /// <summary>Asserts that <paramref name="action"/> throws a stream error (not a connection error) on <paramref name="streamId"/> with <paramref name="code"/>.</summary>
    public static Http2StreamException StreamError(int streamId, Http2ErrorCode code, Action action)
    {
        var error = Assert.Throws<Http2StreamException>(action);
        Assert.Equal(code, error.ErrorCode);
        Assert.Equal(streamId, error.StreamId);
        return error;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

/// <summary>A buffer writer that hands out at most <paramref name="most"/> octets at a time (more only when asked for more) and records the largest ask.</summary>
internal sealed class StingyWriter(int most) : IBufferWriter<byte>
{
    private readonly ArrayBufferWriter<byte> _inner = new();

    public int LargestAsk { get; private set; }

    public byte[] Written => _inner.WrittenSpan.ToArray();

    public void Advance(int count) => _inner.Advance(count);

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        LargestAsk = Math.Max(LargestAsk, sizeHint);
        var memory = _inner.GetMemory(sizeHint);
        return memory[..Math.Min(memory.Length, Math.Max(sizeHint, most))];
    }

    public Span<byte> GetSpan(int sizeHint = 0) => GetMemory(sizeHint).Span;
}
