using System.Buffers;
using FedMesh.Core.Http2;
using static FedMesh.Core.Tests.Http2.Http2TestFrames;

namespace FedMesh.Core.Tests.Http2;

/// <summary>Cutting frames off received bytes: complete, incomplete, too large, and spread over any number of segments.</summary>
public sealed class Http2FrameReaderTests
{
    private static readonly byte[] NextFrameStart = [0x00, 0x00, 0x08, 0x06];

    /// <summary>One frame of each type, with what its parser makes of it.</summary>
    public static TheoryData<byte[], string> Samples => new()
    {
        { Raw(Http2FrameType.Data, Http2Flags.Padded | Http2Flags.EndStream, 1, 2, (byte)'h', (byte)'i', 0, 0), "6869" },
        { Raw(Http2FrameType.Headers, Http2Flags.Padded | Http2Flags.Priority | Http2Flags.EndHeaders, 3, 1, 0x80, 0, 0, 1, 16, 0x82, 0x86, 0), "8286" },
        { Raw(Http2FrameType.Continuation, Http2Flags.EndHeaders, 3, 0x84), "84" },
        { Raw(Http2FrameType.Settings, Http2Flags.None, 0, 0, 4, 0, 0x10, 0, 0, 0, 5, 0, 0, 0x80, 0, 0, 0x99, 0, 0, 0, 7),
            (new Http2Settings() with { InitialWindowSize = 0x10_0000, MaxFrameSize = 0x8000 }).ToString() },
        { Raw(Http2FrameType.Settings, Http2Flags.Ack, 0), new Http2Settings().ToString() },
        { Raw(Http2FrameType.RstStream, Http2Flags.None, 5, 0, 0, 0, 8), "Cancel" },
        { Raw(Http2FrameType.WindowUpdate, Http2Flags.None, 0, 0x80, 1, 0, 0), "65536" },
        { Raw(Http2FrameType.Ping, Http2Flags.None, 0, 1, 2, 3, 4, 5, 6, 7, 8), "0102030405060708" },
        { Raw(Http2FrameType.GoAway, Http2Flags.None, 0, 0x80, 0, 0, 7, 0, 0, 0, 0xb, (byte)'b', (byte)'y', (byte)'e'), "7 EnhanceYourCalm 627965" },
        { Raw(Http2FrameType.Priority, Http2Flags.None, 9, 0, 0, 0, 1, 255), "checked" },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_OneSegment_Parsed(byte[] frame, string parsed)
    {
        Assert.Equal(parsed, ReadAndParse(new ReadOnlySequence<byte>([.. frame, .. NextFrameStart])));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_SplitInTwoAtEveryPoint_ParsedTheSame(byte[] frame, string parsed)
    {
        byte[] bytes = [.. frame, .. NextFrameStart];
        for (var cut = 0; cut <= bytes.Length; cut++)
            Assert.Equal(parsed, ReadAndParse(Split(bytes, cut)));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_SplitInThreeAtEveryPair_ParsedTheSame(byte[] frame, string parsed)
    {
        byte[] bytes = [.. frame, .. NextFrameStart];
        for (var first = 1; first < bytes.Length; first++)
        {
            for (var second = first; second < bytes.Length; second++)
                Assert.Equal(parsed, ReadAndParse(Split(bytes, first, second)));
        }
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_EveryOctetItsOwnSegment_ParsedTheSame(byte[] frame, string parsed)
    {
        Assert.Equal(parsed, ReadAndParse(Shredded([.. frame, .. NextFrameStart])));
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void Sample_Incomplete_FalseAndBufferUntouched(byte[] frame, string parsed)
    {
        Assert.NotEmpty(parsed);
        for (var length = 0; length < frame.Length; length++)
        {
            var buffer = Split(frame[..length], length / 2);
            var before = buffer;
            Assert.False(Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MinMaxFrameSize, out var header, out var payload));
            Assert.Equal(before.Length, buffer.Length);
            Assert.Equal(before.Start, buffer.Start);
            Assert.Equal(default, header);
            Assert.True(payload.IsEmpty);
        }
    }

    [Fact]
    public void TryReadFrame_FramesBackToBack_EachInTurnThenFalse()
    {
        var buffer = new ReadOnlySequence<byte>([
            .. Raw(Http2FrameType.Headers, Http2Flags.EndHeaders, 1, 0x82),
            .. Raw(Http2FrameType.Data, Http2Flags.EndStream, 1),
            .. Raw(Http2FrameType.Ping, Http2Flags.Ack, 0, 8, 7, 6, 5, 4, 3, 2, 1),
            .. NextFrameStart]);

        Assert.True(Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MinMaxFrameSize, out var header, out var payload));
        Assert.Equal(new Http2FrameHeader(1, Http2FrameType.Headers, Http2Flags.EndHeaders, 1), header);
        Assert.Equal([0x82], payload.ToArray());
        Assert.True(Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MinMaxFrameSize, out header, out payload));
        Assert.Equal(new Http2FrameHeader(0, Http2FrameType.Data, Http2Flags.EndStream, 1), header);
        Assert.True(payload.IsEmpty);
        Assert.True(Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MinMaxFrameSize, out header, out payload));
        Assert.Equal(new Http2FrameHeader(8, Http2FrameType.Ping, Http2Flags.Ack, 0), header);
        Assert.Equal([8, 7, 6, 5, 4, 3, 2, 1], payload.ToArray());
        Assert.False(Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MinMaxFrameSize, out _, out _));
        Assert.Equal(NextFrameStart, buffer.ToArray());
    }

    [Fact]
    public void TryReadFrame_LengthAboveMax_ConnectionFrameSizeErrorOnTheHeaderAlone()
    {
        var buffer = new ReadOnlySequence<byte>([0x00, 0x40, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
        var error = ConnectionError(Http2ErrorCode.FrameSizeError,
            () => Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MinMaxFrameSize, out _, out _));
        Assert.Contains("DATA frame on stream 3", error.Message);
        Assert.Contains("16385", error.Message);
        Assert.Contains("16384", error.Message);
    }

    [Theory]
    [InlineData(16_384, 16_384)]
    [InlineData(20_000, 20_000)]
    [InlineData(16_777_215, 65_536)]
    public void TryReadFrame_LengthUpToMax_Read(int maxFrameSize, int length)
    {
        var payload = new byte[length];
        Random.Shared.NextBytes(payload);
        var frame = ReadOne(Raw(Http2FrameType.Data, Http2Flags.None, 1, payload), maxFrameSize);
        Assert.Equal(length, frame.Header.Length);
        Assert.Equal(payload, frame.Payload);
    }

    [Fact]
    public void TryReadFrame_LargerMaxThanLength_ButTooLargeForASmallerMax_Throws()
    {
        var bytes = Raw(Http2FrameType.Data, Http2Flags.None, 1, new byte[20_001]);
        Assert.Single(ReadAll(bytes, 20_001));
        ConnectionError(Http2ErrorCode.FrameSizeError, () => ReadAll(bytes, 20_000));
    }

    /// <summary>Reads the frame at the start of <paramref name="buffer"/>, checks the rest is the next frame's start, and parses the payload by its type.</summary>
    private static string ReadAndParse(ReadOnlySequence<byte> buffer)
    {
        Assert.True(Http2FrameReader.TryReadFrame(ref buffer, Http2Frames.MinMaxFrameSize, out var header, out var payload));
        Assert.Equal(NextFrameStart, buffer.ToArray());
        Assert.Equal(header.Length, payload.Length);
        return header.Type switch
        {
            Http2FrameType.Data => Convert.ToHexString(Http2FrameReader.ReadData(header, payload).ToArray()),
            Http2FrameType.Headers => Convert.ToHexString(Http2FrameReader.ReadHeaders(header, payload).ToArray()),
            Http2FrameType.Continuation => Convert.ToHexString(Http2FrameReader.ReadContinuation(header, payload).ToArray()),
            Http2FrameType.Settings => Http2FrameReader.ReadSettings(header, payload, new Http2Settings()).ToString(),
            Http2FrameType.RstStream => Http2FrameReader.ReadRstStream(header, payload).ToString(),
            Http2FrameType.WindowUpdate => Http2FrameReader.ReadWindowUpdate(header, payload).ToString(),
            Http2FrameType.Ping => Http2FrameReader.ReadPing(header, payload).ToString("x16"),
            Http2FrameType.GoAway => Http2FrameReader.ReadGoAway(header, payload) is var g
                ? $"{g.LastStreamId} {g.ErrorCode} {Convert.ToHexString(g.DebugData.ToArray()).ToLowerInvariant()}" : "",
            Http2FrameType.Priority => Checked(() => Http2FrameReader.ReadPriority(header, payload)),
            _ => throw new InvalidOperationException(header.ToString()),
        };
    }

    private static string Checked(Action check)
    {
        check();
        return "checked";
    }
}
