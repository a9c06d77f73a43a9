using System.Buffers;
using FedMesh.Core.Http2;
using static FedMesh.Core.Tests.Http2.Http2TestFrames;

namespace FedMesh.Core.Tests.Http2;

/// <summary>SETTINGS (RFC 9113 §6.5): the initial values, applying a frame on top of them, and every value the RFC refuses.</summary>
public sealed class Http2SettingsTests
{
    private static readonly Http2Settings Initial = new();

    /// <summary>A SETTINGS payload of the given identifier/value pairs.</summary>
    private static byte[] Entries(params (ushort Id, uint Value)[] entries) =>
        [.. entries.SelectMany(e => BigEndian(e.Id, 2).Concat(BigEndian(e.Value, 4)))];

    private static Http2Settings Apply(Http2Settings current, byte[] payload, Http2Flags flags = Http2Flags.None, int streamId = 0) =>
        Http2FrameReader.ReadSettings(new Http2FrameHeader(payload.Length, Http2FrameType.Settings, flags, streamId), new ReadOnlySequence<byte>(payload), current);

    [Fact]
    public void New_RfcInitialValues()
    {
        Assert.Equal(4096u, Initial.HeaderTableSize);
        Assert.True(Initial.EnablePush);
        Assert.Equal(uint.MaxValue, Initial.MaxConcurrentStreams);
        Assert.Equal(65_535, Initial.InitialWindowSize);
        Assert.Equal(16_384, Initial.MaxFrameSize);
        Assert.Equal(uint.MaxValue, Initial.MaxHeaderListSize);
        Assert.Equal(Http2Settings.Unlimited, Initial.MaxHeaderListSize);
    }

    [Fact]
    public void ReadSettings_AllSix_Applied()
    {
        var settings = Apply(Initial, Entries((1, 0), (2, 0), (3, 100), (4, 1 << 20), (5, 16_777_215), (6, 8192)));
        Assert.Equal(new Http2Settings(0, false, 100, 1 << 20, 16_777_215, 8192), settings);
    }

    [Fact]
    public void ReadSettings_SomeValues_OthersKeptFromCurrent()
    {
        var current = new Http2Settings(100, false, 10, 1000, 20_000, 500);
        Assert.Equal(current with { MaxConcurrentStreams = 7 }, Apply(current, Entries((3, 7))));
    }

    [Fact]
    public void ReadSettings_SameIdentifierTwice_LastWins()
    {
        Assert.Equal(Initial with { InitialWindowSize = 2 }, Apply(Initial, Entries((4, 1), (4, 2))));
    }

    [Fact]
    public void ReadSettings_EnablePushOneAfterZero_True()
    {
        var off = Apply(Initial, Entries((2, 0)));
        Assert.False(off.EnablePush);
        Assert.True(Apply(off, Entries((2, 1))).EnablePush);
    }

    [Theory]
    [InlineData((ushort)0x0)]
    [InlineData((ushort)0x7)]
    [InlineData((ushort)0x8)] // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): not ours to act on
    [InlineData((ushort)0xFFFF)]
    public void ReadSettings_UnknownIdentifier_Ignored(ushort id)
    {
        Assert.Equal(Initial with { HeaderTableSize = 1 }, Apply(Initial, Entries((id, 5), (1, 1), (id, uint.MaxValue))));
    }

    [Fact]
    public void ReadSettings_Empty_NothingChanges()
    {
        var current = Initial with { MaxFrameSize = 20_000 };
        Assert.Equal(current, Apply(current, []));
    }

    [Fact]
    public void ReadSettings_AckEmpty_CurrentUnchanged()
    {
        var current = Initial with { HeaderTableSize = 0, InitialWindowSize = 1 };
        Assert.Equal(current, Apply(current, [], Http2Flags.Ack));
    }

    [Theory]
    [InlineData(6)]
    [InlineData(1)]
    public void ReadSettings_AckWithPayload_ConnectionFrameSizeError(int length)
    {
        var error = ConnectionError(Http2ErrorCode.FrameSizeError, () => Apply(Initial, new byte[length], Http2Flags.Ack));
        Assert.Contains($"SETTINGS frame on stream 0: an ACK must be empty, this one has {length} octets", error.Message);
    }

    [Theory]
    [InlineData(1, (byte)Http2Flags.None)]
    [InlineData(3, (byte)Http2Flags.Ack)]
    public void ReadSettings_OnAStream_ConnectionProtocolError(int streamId, byte flagBits)
    {
        var flags = (Http2Flags)flagBits;
        var payload = flags == Http2Flags.Ack ? [] : Entries((3, 1));
        var error = ConnectionError(Http2ErrorCode.ProtocolError, () => Apply(Initial, payload, flags, streamId));
        Assert.Contains($"SETTINGS frame on stream {streamId}", error.Message);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(7)]
    [InlineData(13)]
    public void ReadSettings_LengthNotMultipleOfSix_ConnectionFrameSizeError(int length)
    {
        var error = ConnectionError(Http2ErrorCode.FrameSizeError, () => Apply(Initial, new byte[length]));
        Assert.Contains($"the length {length} is not a multiple of 6", error.Message);
    }

    [Theory]
    [InlineData(2, 0u)]
    [InlineData(2, 1u)]
    [InlineData(4, 0u)]
    [InlineData(4, 2_147_483_647u)]
    [InlineData(5, 16_384u)]
    [InlineData(5, 16_777_215u)]
    [InlineData(1, uint.MaxValue)]
    [InlineData(3, 0u)]
    [InlineData(6, 0u)]
    public void ReadSettings_BoundaryValues_Accepted(ushort id, uint value)
    {
        var applied = Apply(Initial, Entries((id, value)));
        var held = (Http2SettingId)id switch
        {
            Http2SettingId.HeaderTableSize => applied.HeaderTableSize,
            Http2SettingId.EnablePush => applied.EnablePush ? 1u : 0u,
            Http2SettingId.MaxConcurrentStreams => applied.MaxConcurrentStreams,
            Http2SettingId.InitialWindowSize => (uint)applied.InitialWindowSize,
            Http2SettingId.MaxFrameSize => (uint)applied.MaxFrameSize,
            _ => applied.MaxHeaderListSize,
        };
        Assert.Equal(value, held);
    }

    [Theory]
    [InlineData(2, 2u, (uint)Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH is 2")]
    [InlineData(2, uint.MaxValue, (uint)Http2ErrorCode.ProtocolError, "SETTINGS_ENABLE_PUSH is 4294967295")]
    [InlineData(4, 2_147_483_648u, (uint)Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE is 2147483648")]
    [InlineData(4, uint.MaxValue, (uint)Http2ErrorCode.FlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE is 4294967295")]
    [InlineData(5, 16_383u, (uint)Http2ErrorCode.ProtocolError, "SETTINGS_MAX_FRAME_SIZE is 16383")]
    [InlineData(5, 0u, (uint)Http2ErrorCode.ProtocolError, "SETTINGS_MAX_FRAME_SIZE is 0")]
    [InlineData(5, 16_777_216u, (uint)Http2ErrorCode.ProtocolError, "SETTINGS_MAX_FRAME_SIZE is 16777216")]
    public void ReadSettings_ValueOutOfRange_ConnectionError(ushort id, uint value, uint code, string message)
    {
        var error = ConnectionError((Http2ErrorCode)code, () => Apply(Initial, Entries((3, 10), (id, value))));
        Assert.Contains("SETTINGS frame on stream 0", error.Message);
        Assert.Contains(message, error.Message);
    }

    [Theory]
    [InlineData((ushort)Http2SettingId.EnablePush, 2u)]
    [InlineData((ushort)Http2SettingId.InitialWindowSize, 2_147_483_648u)]
    [InlineData((ushort)Http2SettingId.MaxFrameSize, 16_383u)]
    public void WriteSettings_ValueOutOfRange_ArgumentError(ushort id, uint value)
    {
        var writer = new ArrayBufferWriter<byte>();
        Assert.Throws<ArgumentOutOfRangeException>(() => Http2FrameWriter.WriteSettings(writer, [new Http2Setting(Http2SettingId.HeaderTableSize, 1), new Http2Setting((Http2SettingId)id, value)]));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public void WriteSettings_ThenRead_TheValuesSent()
    {
        Http2Setting[] sent =
        [
            new(Http2SettingId.HeaderTableSize, 0), new(Http2SettingId.EnablePush, 0), new(Http2SettingId.MaxConcurrentStreams, 250),
            new(Http2SettingId.InitialWindowSize, 1 << 24), new(Http2SettingId.MaxFrameSize, 1 << 16), new(Http2SettingId.MaxHeaderListSize, 32_768),
            new((Http2SettingId)0x4242, 9),
        ];
        var frame = ReadOne(Written(w => Http2FrameWriter.WriteSettings(w, sent)));
        Assert.Equal(new Http2FrameHeader(42, Http2FrameType.Settings, Http2Flags.None, 0), frame.Header);
        Assert.Equal(new Http2Settings(0, false, 250, 1 << 24, 1 << 16, 32_768), Apply(Initial, frame.Payload));
    }

    [Fact]
    public void WriteSettings_OnTheWire_IdThenValueBigEndian()
    {
        var bytes = Written(w => Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.InitialWindowSize, 0x0102_0304)]));
        Assert.Equal(new byte[] { 0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4 }, bytes);
    }

    [Fact]
    public void WriteSettingsAck_EmptyAckOnStreamZero()
    {
        Assert.Equal(new byte[] { 0, 0, 0, 4, 1, 0, 0, 0, 0 }, Written(Http2FrameWriter.WriteSettingsAck));
    }
}
