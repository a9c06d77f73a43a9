using System.Buffers;
using FedMesh.Core.Http2;
using static FedMesh.Core.Tests.Http2.Http2TestFrames;

namespace FedMesh.Core.Tests.Http2;

/// <summary>Every frame the writer makes, on the wire and read back; DATA and HEADERS cut at the peer's maximum frame size.</summary>
public sealed class Http2FrameWriterTests
{
    private const int Max = Http2Frames.MinMaxFrameSize;

    private static ReadOnlySequence<byte> Seq(byte[] payload) => new(payload);

    [Fact]
    public void WindowUpdate_OnTheWireAndBack()
    {
        var bytes = Written(w => Http2FrameWriter.WriteWindowUpdate(w, 3, 0x0102_0304));
        Assert.Equal(new byte[] { 0, 0, 4, 8, 0, 0, 0, 0, 3, 1, 2, 3, 4 }, bytes);
        foreach (var (streamId, increment) in new[] { (0, 1), (7, int.MaxValue) })
        {
            var frame = ReadOne(Written(w => Http2FrameWriter.WriteWindowUpdate(w, streamId, increment)));
            Assert.Equal(new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2Flags.None, streamId), frame.Header);
            Assert.Equal(increment, Http2FrameReader.ReadWindowUpdate(frame.Header, Seq(frame.Payload)));
        }
    }

    [Fact]
    public void Ping_AndAck_OnTheWireAndBack()
    {
        var ping = Written(w => Http2FrameWriter.WritePing(w, 0x0102_0304_0506_0708));
        Assert.Equal(new byte[] { 0, 0, 8, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 }, ping);
        var ack = ReadOne(Written(w => Http2FrameWriter.WritePingAck(w, ulong.MaxValue - 1)));
        Assert.Equal(new Http2FrameHeader(8, Http2FrameType.Ping, Http2Flags.Ack, 0), ack.Header);
        Assert.Equal(ulong.MaxValue - 1, Http2FrameReader.ReadPing(ack.Header, Seq(ack.Payload)));
    }

    [Theory]
    [InlineData(1, (uint)Http2ErrorCode.Cancel)]
    [InlineData(int.MaxValue, (uint)Http2ErrorCode.Http11Required)]
    [InlineData(5, (uint)0xDEAD_BEEF)]
    public void RstStream_OnTheWireAndBack(int streamId, uint errorCode)
    {
        var code = (Http2ErrorCode)errorCode;
        var frame = ReadOne(Written(w => Http2FrameWriter.WriteRstStream(w, streamId, code)));
        Assert.Equal(new Http2FrameHeader(4, Http2FrameType.RstStream, Http2Flags.None, streamId), frame.Header);
        Assert.Equal(BigEndian((uint)code, 4), frame.Payload);
        Assert.Equal(code, Http2FrameReader.ReadRstStream(frame.Header, Seq(frame.Payload)));
    }

    [Theory]
    [InlineData(0, (uint)Http2ErrorCode.NoError, "")]
    [InlineData(int.MaxValue, (uint)Http2ErrorCode.EnhanceYourCalm, "too many resets")]
    public void GoAway_OnTheWireAndBack(int lastStreamId, uint errorCode, string debug)
    {
        var code = (Http2ErrorCode)errorCode;
        var debugData = System.Text.Encoding.ASCII.GetBytes(debug);
        var frame = ReadOne(Written(w => Http2FrameWriter.WriteGoAway(w, lastStreamId, code, debugData)));
        Assert.Equal(new Http2FrameHeader(8 + debugData.Length, Http2FrameType.GoAway, Http2Flags.None, 0), frame.Header);
        Assert.Equal([.. BigEndian((uint)lastStreamId, 4), .. BigEndian((uint)code, 4), .. debugData], frame.Payload);
        var goAway = Http2FrameReader.ReadGoAway(frame.Header, Seq(frame.Payload));
        Assert.Equal((lastStreamId, code), (goAway.LastStreamId, goAway.ErrorCode));
        Assert.Equal(debugData, goAway.DebugData.ToArray());
    }

    [Fact]
    public void GoAway_DebugDataFillsASmallestFrame_LongerRefused()
    {
        var frame = ReadOne(Written(w => Http2FrameWriter.WriteGoAway(w, 1, Http2ErrorCode.NoError, new byte[Max - 8])));
        Assert.Equal(Max, frame.Header.Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => Written(w => Http2FrameWriter.WriteGoAway(w, 1, Http2ErrorCode.NoError, new byte[Max - 7])));
    }

    [Fact]
    public void InvalidArguments_Refused()
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteWindowUpdate(writer, 1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteWindowUpdate(writer, -1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteRstStream(writer, 0, Http2ErrorCode.Cancel));
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteGoAway(writer, -1, Http2ErrorCode.NoError));
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteData(writer, 0, [1], true, Max));
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteHeaders(writer, 0, [0x82], true, Max));
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteData(writer, 1, [1], true, Max - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteHeaders(writer, 1, [0x82], true, Http2Frames.MaxMaxFrameSize + 1));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Theory]
    [InlineData(0, true, new int[] { 0 })]
    [InlineData(0, false, new int[0])]
    [InlineData(1, true, new int[] { 1 })]
    [InlineData(Max - 1, false, new int[] { Max - 1 })]
    [InlineData(Max, true, new int[] { Max })]
    [InlineData(Max + 1, true, new int[] { Max, 1 })]
    [InlineData(2 * Max, false, new int[] { Max, Max })]
    [InlineData(2 * Max + 1, true, new int[] { Max, Max, 1 })]
    public void Data_CutAtMaxFrameSize_EndStreamOnTheLastOnly(int length, bool endStream, int[] frameLengths)
    {
        var data = new byte[length];
        Random.Shared.NextBytes(data);
        var fromSpan = Written(w => Http2FrameWriter.WriteData(w, 5, data, endStream, Max));
        var fromSequence = Written(w => Http2FrameWriter.WriteData(w, 5, Split(data, length / 3, length / 3, 2 * length / 3), endStream, Max));
        Assert.Equal(fromSpan, fromSequence);

        var frames = ReadAll(fromSpan);
        Assert.Equal(frameLengths, frames.Select(f => f.Header.Length));
        for (var i = 0; i < frames.Count; i++)
        {
            var last = i == frames.Count - 1;
            Assert.Equal(new Http2FrameHeader(frameLengths[i], Http2FrameType.Data, last && endStream ? Http2Flags.EndStream : Http2Flags.None, 5), frames[i].Header);
        }
        Assert.Equal(data, frames.SelectMany(f => Http2FrameReader.ReadData(f.Header, Seq(f.Payload)).ToArray()));
    }

    [Fact]
    public void Data_LargerPeerMax_FewerFrames()
    {
        var data = new byte[100_000];
        var frames = ReadAll(Written(w => Http2FrameWriter.WriteData(w, 1, data, true, 65_536)), 65_536);
        Assert.Equal([65_536, 34_464], frames.Select(f => f.Header.Length));
    }

    [Theory]
    [InlineData(0, new int[] { 0 })]
    [InlineData(1, new int[] { 1 })]
    [InlineData(Max - 1, new int[] { Max - 1 })]
    [InlineData(Max, new int[] { Max })]
    [InlineData(Max + 1, new int[] { Max, 1 })]
    [InlineData(2 * Max - 1, new int[] { Max, Max - 1 })]
    [InlineData(2 * Max, new int[] { Max, Max })]
    [InlineData(2 * Max + 1, new int[] { Max, Max, 1 })]
    [InlineData(3 * Max, new int[] { Max, Max, Max })]
    public void Headers_CutIntoContinuations_EndHeadersOnTheLast(int length, int[] frameLengths)
    {
        var block = new byte[length];
        Random.Shared.NextBytes(block);
        foreach (var endStream in new[] { false, true })
        {
            var frames = ReadAll(Written(w => Http2FrameWriter.WriteHeaders(w, 7, block, endStream, Max)));
            Assert.Equal(frameLengths, frames.Select(f => f.Header.Length));
            for (var i = 0; i < frames.Count; i++)
            {
                var flags = (i == 0 && endStream ? Http2Flags.EndStream : Http2Flags.None) | (i == frames.Count - 1 ? Http2Flags.EndHeaders : Http2Flags.None);
                var type = i == 0 ? Http2FrameType.Headers : Http2FrameType.Continuation;
                Assert.Equal(new Http2FrameHeader(frameLengths[i], type, flags, 7), frames[i].Header);
            }
            var fragments = frames.SelectMany(f => (f.Header.Type == Http2FrameType.Headers
                ? Http2FrameReader.ReadHeaders(f.Header, Seq(f.Payload))
                : Http2FrameReader.ReadContinuation(f.Header, Seq(f.Payload))).ToArray());
            Assert.Equal(block, fragments);
        }
    }

    [Fact]
    public void Headers_OnTheWire()
    {
        var bytes = Written(w => Http2FrameWriter.WriteHeaders(w, 1, [0x82, 0x86, 0x84], true, Max));
        Assert.Equal(new byte[] { 0, 0, 3, 1, 0x05, 0, 0, 0, 1, 0x82, 0x86, 0x84 }, bytes);
    }

    [Fact]
    public void DataAndHeaders_IntoAStingyWriter_NeverAskForMoreThanAHeader()
    {
        var data = new byte[40_000];
        Random.Shared.NextBytes(data);
        var writer = new StingyWriter(100);
        Http2FrameWriter.WriteHeaders(writer, 3, data, false, Max);
        Http2FrameWriter.WriteData(writer, 3, data, true, Max);
        Http2FrameWriter.WriteData(writer, 3, Split(data, 1000, 30_000), true, Max);
        Assert.True(writer.LargestAsk <= Http2FrameHeader.Size, $"asked for {writer.LargestAsk} octets at once");

        var expected = Written(w =>
        {
            Http2FrameWriter.WriteHeaders(w, 3, data, false, Max);
            Http2FrameWriter.WriteData(w, 3, data, true, Max);
            Http2FrameWriter.WriteData(w, 3, data, true, Max);
        });
        Assert.Equal(expected, writer.Written);
        Assert.Equal(9, ReadAll(writer.Written).Count);
    }
}
