using System.Buffers;
using FedMesh.Core.Http2;
using static FedMesh.Core.Tests.Http2.Http2TestFrames;

namespace FedMesh.Core.Tests.Http2;

/// <summary>Each payload parser's checks (RFC 9113 §6): what it returns, and which error, of which kind, it throws.</summary>
public sealed class Http2PayloadTests
{
    private static Http2FrameHeader Header(Http2FrameType type, int streamId, byte[] payload, Http2Flags flags = Http2Flags.None) =>
        new(payload.Length, type, flags, streamId);

    private static ReadOnlySequence<byte> Seq(byte[] payload) => new(payload);

    private static byte[] Data(Http2Flags flags, params byte[] payload) =>
        Http2FrameReader.ReadData(Header(Http2FrameType.Data, 1, payload, flags), Seq(payload)).ToArray();

    private static byte[] Headers(Http2Flags flags, params byte[] payload) =>
        Http2FrameReader.ReadHeaders(Header(Http2FrameType.Headers, 1, payload, flags), Seq(payload)).ToArray();

    [Theory]
    [InlineData((byte)Http2Flags.None, new byte[] { 1, 2, 3 }, new byte[] { 1, 2, 3 })]
    [InlineData((byte)Http2Flags.EndStream, new byte[0], new byte[0])]
    [InlineData((byte)Http2Flags.Padded, new byte[] { 2, 7, 8, 0, 0 }, new byte[] { 7, 8 })]
    [InlineData((byte)Http2Flags.Padded, new byte[] { 0, 7, 8 }, new byte[] { 7, 8 })]
    [InlineData((byte)Http2Flags.Padded, new byte[] { 0 }, new byte[0])]
    [InlineData((byte)Http2Flags.Padded, new byte[] { 3, 0, 0, 0 }, new byte[0])]
    public void ReadData_PaddingRemoved(byte flags, byte[] payload, byte[] data) => Assert.Equal(data, Data((Http2Flags)flags, payload));

    [Theory]
    [InlineData(new byte[] { 4, 0, 0, 0 })]
    [InlineData(new byte[] { 1 })]
    [InlineData(new byte[] { 255, 1, 2 })]
    public void ReadData_PadLengthNotBelowPayload_ConnectionProtocolError(byte[] payload)
    {
        var error = ConnectionError(Http2ErrorCode.ProtocolError, () => Data(Http2Flags.Padded, payload));
        Assert.Contains("DATA frame on stream 1", error.Message);
        Assert.Contains($"pad length {payload[0]}", error.Message);
    }

    [Fact]
    public void ReadData_PaddedButEmpty_ConnectionFrameSizeError() =>
        ConnectionError(Http2ErrorCode.FrameSizeError, () => Data(Http2Flags.Padded));

    [Theory]
    [InlineData((byte)Http2FrameType.Data)]
    [InlineData((byte)Http2FrameType.Headers)]
    [InlineData((byte)Http2FrameType.Continuation)]
    [InlineData((byte)Http2FrameType.RstStream)]
    [InlineData((byte)Http2FrameType.Priority)]
    public void StreamFrame_OnStreamZero_ConnectionProtocolError(byte frameType)
    {
        var type = (Http2FrameType)frameType;
        byte[] payload = type is Http2FrameType.Priority ? [0, 0, 0, 1, 1] : [0, 0, 0, 1];
        var header = Header(type, 0, payload);
        var error = ConnectionError(Http2ErrorCode.ProtocolError, () => Parse(header, Seq(payload)));
        Assert.Contains($"{Http2Frames.Name(type)} frame on stream 0", error.Message);
    }

    [Theory]
    [InlineData((byte)Http2FrameType.Settings)]
    [InlineData((byte)Http2FrameType.Ping)]
    [InlineData((byte)Http2FrameType.GoAway)]
    public void ConnectionFrame_OnAStream_ConnectionProtocolError(byte frameType)
    {
        var type = (Http2FrameType)frameType;
        var payload = new byte[type is Http2FrameType.Settings ? 6 : 8];
        var error = ConnectionError(Http2ErrorCode.ProtocolError, () => Parse(Header(type, 1, payload), Seq(payload)));
        Assert.Contains($"{Http2Frames.Name(type)} frame on stream 1", error.Message);
    }

    [Theory]
    [InlineData((byte)Http2Flags.EndHeaders, new byte[] { 0x82, 0x86 }, new byte[] { 0x82, 0x86 })]
    [InlineData((byte)Http2Flags.Padded, new byte[] { 1, 0x82, 0 }, new byte[] { 0x82 })]
    [InlineData((byte)Http2Flags.Priority, new byte[] { 0x80, 0, 0, 3, 200, 0x82 }, new byte[] { 0x82 })]
    [InlineData((byte)Http2Flags.Priority, new byte[] { 0, 0, 0, 3, 200 }, new byte[0])]
    [InlineData((byte)(Http2Flags.Padded | Http2Flags.Priority), new byte[] { 2, 0, 0, 0, 3, 200, 0x82, 0x84, 0, 0 }, new byte[] { 0x82, 0x84 })]
    [InlineData((byte)(Http2Flags.Padded | Http2Flags.Priority), new byte[] { 2, 0, 0, 0, 3, 200, 0, 0 }, new byte[0])]
    public void ReadHeaders_PaddingAndPriorityRemoved(byte flags, byte[] payload, byte[] fragment) =>
        Assert.Equal(fragment, Headers((Http2Flags)flags, payload));

    [Theory]
    [InlineData((byte)Http2Flags.Padded, new byte[] { 3, 0x82, 0 })]
    [InlineData((byte)(Http2Flags.Padded | Http2Flags.Priority), new byte[] { 3, 0, 0, 0, 3, 200, 0, 0 })]
    [InlineData((byte)(Http2Flags.Padded | Http2Flags.Priority), new byte[] { 6, 0, 0, 0, 3, 200 })]
    public void ReadHeaders_PaddingBeyondPayload_ConnectionProtocolError(byte flags, byte[] payload) =>
        ConnectionError(Http2ErrorCode.ProtocolError, () => Headers((Http2Flags)flags, payload));

    [Theory]
    [InlineData((byte)Http2Flags.Priority, new byte[] { 0, 0, 0, 3 })]
    [InlineData((byte)(Http2Flags.Padded | Http2Flags.Priority), new byte[] { 0, 0, 0, 0, 3 })]
    [InlineData((byte)Http2Flags.Padded, new byte[0])]
    public void ReadHeaders_TooShortForItsFields_ConnectionFrameSizeError(byte flags, byte[] payload) =>
        ConnectionError(Http2ErrorCode.FrameSizeError, () => Headers((Http2Flags)flags, payload));

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 8 }, (uint)Http2ErrorCode.Cancel)]
    [InlineData(new byte[] { 0, 0, 0, 0 }, (uint)Http2ErrorCode.NoError)]
    [InlineData(new byte[] { 0xFF, 0, 0, 0x42 }, (uint)0xFF00_0042)] // unknown codes pass as they are (§7)
    public void ReadRstStream_ErrorCode(byte[] payload, uint code) =>
        Assert.Equal((Http2ErrorCode)code, Http2FrameReader.ReadRstStream(Header(Http2FrameType.RstStream, 3, payload), Seq(payload)));

    [Theory]
    [InlineData((byte)Http2FrameType.RstStream, 3, 3)]
    [InlineData((byte)Http2FrameType.RstStream, 3, 5)]
    [InlineData((byte)Http2FrameType.WindowUpdate, 0, 3)]
    [InlineData((byte)Http2FrameType.WindowUpdate, 7, 5)]
    [InlineData((byte)Http2FrameType.WindowUpdate, 7, 0)]
    [InlineData((byte)Http2FrameType.Ping, 0, 7)]
    [InlineData((byte)Http2FrameType.Ping, 0, 9)]
    [InlineData((byte)Http2FrameType.Ping, 0, 0)]
    [InlineData((byte)Http2FrameType.GoAway, 0, 7)]
    [InlineData((byte)Http2FrameType.GoAway, 0, 0)]
    public void FixedSizeFrame_WrongLength_ConnectionFrameSizeError(byte frameType, int streamId, int length)
    {
        var type = (Http2FrameType)frameType;
        var payload = Enumerable.Repeat((byte)1, length).ToArray();
        var error = ConnectionError(Http2ErrorCode.FrameSizeError, () => Parse(Header(type, streamId, payload), Seq(payload)));
        Assert.Contains($"{Http2Frames.Name(type)} frame on stream {streamId}", error.Message);
        Assert.Contains($"{length} octets", error.Message);
    }

    [Theory]
    [InlineData(0, new byte[] { 0, 0, 0, 1 }, 1)]
    [InlineData(9, new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }, int.MaxValue)]
    [InlineData(9, new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }, int.MaxValue)] // the reserved bit is not part of it
    [InlineData(0, new byte[] { 0x80, 0, 0x01, 0x00 }, 256)]
    public void ReadWindowUpdate_Increment(int streamId, byte[] payload, int increment) =>
        Assert.Equal(increment, Http2FrameReader.ReadWindowUpdate(Header(Http2FrameType.WindowUpdate, streamId, payload), Seq(payload)));

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0x80, 0, 0, 0 })]
    public void ReadWindowUpdate_ZeroOnTheConnection_ConnectionProtocolError(byte[] payload)
    {
        var error = ConnectionError(Http2ErrorCode.ProtocolError,
            () => Http2FrameReader.ReadWindowUpdate(Header(Http2FrameType.WindowUpdate, 0, payload), Seq(payload)));
        Assert.Contains("WINDOW_UPDATE frame on stream 0: the window size increment is 0", error.Message);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0x80, 0, 0, 0 })]
    public void ReadWindowUpdate_ZeroOnAStream_StreamProtocolError(byte[] payload)
    {
        var error = StreamError(5, Http2ErrorCode.ProtocolError,
            () => Http2FrameReader.ReadWindowUpdate(Header(Http2FrameType.WindowUpdate, 5, payload), Seq(payload)));
        Assert.Contains("WINDOW_UPDATE frame on stream 5: the window size increment is 0", error.Message);
    }

    [Fact]
    public void ReadPing_OpaqueDataBigEndian()
    {
        byte[] payload = [0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10];
        Assert.Equal(0xFEDC_BA98_7654_3210UL, Http2FrameReader.ReadPing(Header(Http2FrameType.Ping, 0, payload, Http2Flags.Ack), Seq(payload)));
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0 }, 0, (uint)Http2ErrorCode.NoError, "")]
    [InlineData(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0xd, 0x68, 0x69 }, int.MaxValue, (uint)Http2ErrorCode.Http11Required, "hi")]
    [InlineData(new byte[] { 0, 0, 1, 1, 0, 0, 0, 1 }, 257, (uint)Http2ErrorCode.ProtocolError, "")]
    public void ReadGoAway_Fields(byte[] payload, int lastStreamId, uint code, string debugData)
    {
        var goAway = Http2FrameReader.ReadGoAway(Header(Http2FrameType.GoAway, 0, payload), Seq(payload));
        Assert.Equal(lastStreamId, goAway.LastStreamId);
        Assert.Equal((Http2ErrorCode)code, goAway.ErrorCode);
        Assert.Equal(debugData, System.Text.Encoding.ASCII.GetString(goAway.DebugData.ToArray()));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(6)]
    [InlineData(0)]
    public void ReadPriority_NotFiveOctets_StreamFrameSizeError(int length)
    {
        var payload = new byte[length];
        var error = StreamError(11, Http2ErrorCode.FrameSizeError,
            () => Http2FrameReader.ReadPriority(Header(Http2FrameType.Priority, 11, payload), Seq(payload)));
        Assert.Contains($"PRIORITY frame on stream 11: the payload is {length} octets, not 5", error.Message);
    }

    [Fact]
    public void ReadPriority_FiveOctets_Accepted()
    {
        byte[] payload = [0x80, 0, 0, 11, 255]; // even depending on itself: the content is ignored
        Http2FrameReader.ReadPriority(Header(Http2FrameType.Priority, 11, payload), Seq(payload));
    }

    private static void Parse(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        switch (header.Type)
        {
            case Http2FrameType.Data: Http2FrameReader.ReadData(header, payload); break;
            case Http2FrameType.Headers: Http2FrameReader.ReadHeaders(header, payload); break;
            case Http2FrameType.Continuation: Http2FrameReader.ReadContinuation(header, payload); break;
            case Http2FrameType.RstStream: Http2FrameReader.ReadRstStream(header, payload); break;
            case Http2FrameType.Priority: Http2FrameReader.ReadPriority(header, payload); break;
            case Http2FrameType.Settings: Http2FrameReader.ReadSettings(header, payload, new Http2Settings()); break;
            case Http2FrameType.Ping: Http2FrameReader.ReadPing(header, payload); break;
            case Http2FrameType.GoAway: Http2FrameReader.ReadGoAway(header, payload); break;
            case Http2FrameType.WindowUpdate: Http2FrameReader.ReadWindowUpdate(header, payload); break;
            default: throw new InvalidOperationException(header.ToString());
        }
    }
}
