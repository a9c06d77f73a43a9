using System.Text;
using FedMesh.Core.Http2;

namespace FedMesh.Core.Tests.Http2;

public sealed class Http2FrameHeaderTests
{
    [Fact]
    public void ConnectionPreface_IsTheRfcString()
    {
        Assert.Equal(Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Http2Frames.ConnectionPreface.ToArray());
        Assert.Equal(24, Http2Frames.ConnectionPreface.Length);
    }

    [Fact]
    public void FrameTypes_TheRfcCodesInOrder()
    {
        Http2FrameType[] types =
        [
            Http2FrameType.Data, Http2FrameType.Headers, Http2FrameType.Priority, Http2FrameType.RstStream, Http2FrameType.Settings,
            Http2FrameType.PushPromise, Http2FrameType.Ping, Http2FrameType.GoAway, Http2FrameType.WindowUpdate, Http2FrameType.Continuation,
        ];
        Assert.Equal(Enumerable.Range(0, 10), types.Select(t => (int)t));
    }

    [Fact]
    public void Flags_TheRfcBits()
    {
        Assert.Equal([0x1, 0x1, 0x4, 0x8, 0x20],
            new[] { Http2Flags.EndStream, Http2Flags.Ack, Http2Flags.EndHeaders, Http2Flags.Padded, Http2Flags.Priority }.Select(f => (int)f));
    }

    [Fact]
    public void ErrorCodes_TheRfcCodesInOrder()
    {
        Http2ErrorCode[] codes =
        [
            Http2ErrorCode.NoError, Http2ErrorCode.ProtocolError, Http2ErrorCode.InternalError, Http2ErrorCode.FlowControlError,
            Http2ErrorCode.SettingsTimeout, Http2ErrorCode.StreamClosed, Http2ErrorCode.FrameSizeError, Http2ErrorCode.RefusedStream,
            Http2ErrorCode.Cancel, Http2ErrorCode.CompressionError, Http2ErrorCode.ConnectError, Http2ErrorCode.EnhanceYourCalm,
            Http2ErrorCode.InadequateSecurity, Http2ErrorCode.Http11Required,
        ];
        Assert.Equal(Enumerable.Range(0, 14), codes.Select(c => (int)c));
    }

    [Fact]
    public void Read_FieldsInNetworkOrder()
    {
        byte[] bytes = [0x01, 0x02, 0x03, 0x01, 0x25, 0x12, 0x34, 0x56, 0x78, 0xEE];
        var header = Http2FrameHeader.Read(bytes);
        Assert.Equal(new Http2FrameHeader(0x010203, Http2FrameType.Headers, Http2Flags.EndStream | Http2Flags.EndHeaders | Http2Flags.Priority, 0x12345678), header);
    }

    [Theory]
    [InlineData(0x80, 0x00, 0x00, 0x05, 5)]
    [InlineData(0xFF, 0xFF, 0xFF, 0xFF, int.MaxValue)]
    [InlineData(0x80, 0x00, 0x00, 0x00, 0)]
    public void Read_ReservedBitSet_Dropped(byte b5, byte b6, byte b7, byte b8, int streamId)
    {
        byte[] bytes = [0, 0, 0, 0, 0, b5, b6, b7, b8];
        Assert.Equal(streamId, Http2FrameHeader.Read(bytes).StreamId);
    }

    [Fact]
    public void Write_FieldsInNetworkOrder()
    {
        var bytes = new byte[10];
        new Http2FrameHeader(0xABCDEF, Http2FrameType.WindowUpdate, Http2Flags.Padded | Http2Flags.Ack, 0x7654_3210).Write(bytes);
        Assert.Equal(new byte[] { 0xAB, 0xCD, 0xEF, 0x08, 0x09, 0x76, 0x54, 0x32, 0x10, 0x00 }, bytes);
    }

    [Theory]
    [InlineData(unchecked((int)0x8000_0007), 7)]
    [InlineData(-1, int.MaxValue)]
    [InlineData(int.MinValue, 0)]
    public void Write_StreamIdWithTopBit_ReservedBitNeverSent(int streamId, int sent)
    {
        var bytes = new byte[9];
        new Http2FrameHeader(0, Http2FrameType.Data, Http2Flags.None, streamId).Write(bytes);
        Assert.Equal(0, bytes[5] & 0x80);
        Assert.Equal(sent, Http2FrameHeader.Read(bytes).StreamId);
    }

    [Theory]
    [InlineData(16_777_216)]
    [InlineData(-1)]
    public void Write_LengthBeyond24Bits_Throws(int length)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http2FrameHeader(length, Http2FrameType.Data, Http2Flags.None, 1).Write(new byte[9]));
    }

    [Theory]
    [InlineData(0, (byte)Http2FrameType.Data, (byte)Http2Flags.None, 1)]
    [InlineData(16_777_215, (byte)Http2FrameType.Continuation, (byte)Http2Flags.EndHeaders, int.MaxValue)]
    [InlineData(8, (byte)Http2FrameType.Ping, (byte)Http2Flags.Ack, 0)]
    [InlineData(300, (byte)0xFA, (byte)0xFF, 12345)]
    public void WriteThenRead_SameHeader(int length, byte type, byte flags, int streamId)
    {
        var header = new Http2FrameHeader(length, (Http2FrameType)type, (Http2Flags)flags, streamId);
        var bytes = new byte[Http2FrameHeader.Size];
        header.Write(bytes);
        Assert.Equal(header, Http2FrameHeader.Read(bytes));
        Assert.Equal(9, Http2FrameHeader.Size);
    }

    [Theory]
    [InlineData((byte)Http2FrameType.RstStream, "RST_STREAM")]
    [InlineData((byte)Http2FrameType.WindowUpdate, "WINDOW_UPDATE")]
    [InlineData((byte)Http2FrameType.GoAway, "GOAWAY")]
    [InlineData((byte)0x0a, "frame type 0x0a")]
    public void Name_AsTheRfcWritesIt(byte type, string name) => Assert.Equal(name, Http2Frames.Name((Http2FrameType)type));

    [Fact]
    public void Has_EveryBitOfTheFlag()
    {
        var header = new Http2FrameHeader(0, Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.Padded, 1);
        Assert.True(header.Has(Http2Flags.EndHeaders));
        Assert.True(header.Has(Http2Flags.Padded | Http2Flags.EndHeaders));
        Assert.False(header.Has(Http2Flags.EndStream));
        Assert.False(header.Has(Http2Flags.Padded | Http2Flags.Priority));
    }
}
