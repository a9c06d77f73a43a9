using System.Buffers;
using FedMesh.Core.Http2;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// <see cref="Http2Connection"/> as the server, facing a raw peer that writes frames by hand: a stream error resets
/// only its stream and the connection serves the next one; a connection error ends it with GOAWAY and the right code.
/// </summary>
public sealed class Http2ConnectionProtocolErrorTests
{
    [Fact]
    public async Task DataBeyondTheStreamWindow_ResetsTheStream_FlowControlError()
    {
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { StreamWindow = 1000 }, () => new StreamLog(consume: false));
        await test.Peer.RequestAsync(1, "/upload", endStream: false);
        await test.Peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteData(w, 1, new byte[1000], endStream: false, Http2Frames.MinMaxFrameSize); // the whole window: fine
            Http2FrameWriter.WriteData(w, 1, new byte[1], endStream: false, Http2Frames.MinMaxFrameSize);
        });

        Assert.Equal((1, Http2ErrorCode.FlowControlError), await test.Peer.ReadResetAsync());
        var owner = (StreamLog)Assert.Single(test.Owners);
        await owner.EndedAsync();
        Assert.Equal((1, Http2ErrorCode.FlowControlError, 1000), (owner.Resets, owner.ResetCode, owner.Body.Length));
        await test.ExpectPingAnsweredAsync(); // the connection goes on
    }

    [Fact]
    public async Task DataBeyondTheConnectionWindow_EndsTheConnection_FlowControlError()
    {
        // No WINDOW_UPDATE at the start: the connection's window stays the RFC's 65,535 while each stream's is 1 MiB.
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { ConnectionWindow = 65_535 }, () => new StreamLog(consume: false));
        await test.Peer.RequestAsync(1, "/upload", endStream: false);
        await test.Peer.RequestAsync(3, "/upload", endStream: false);
        await test.Peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteData(w, 1, new byte[40_000], endStream: false, Http2Frames.MinMaxFrameSize);
            Http2FrameWriter.WriteData(w, 3, new byte[25_536], endStream: false, Http2Frames.MinMaxFrameSize); // 65,536 in all
        });

        await test.ExpectGoneAwayAsync(Http2ErrorCode.FlowControlError, lastStreamId: 3);
        Assert.Equal(2, test.Owners.Count);
    }

    [Fact]
    public async Task AnOwnerThatThrows_CostsItsStream_InternalError_AndTheNextStreamIsServed()
    {
        var first = true;
        await using var test = await RawSession.ServeAsync(newOwner: () =>
        {
            if (!first)
                return new EchoOwner();
            first = false;
            return new ThrowingOwner();
        });
        await test.Peer.RequestAsync(1, "/boom", endStream: true);

        Assert.Equal((1, Http2ErrorCode.InternalError), await test.Peer.ReadResetAsync());
        await test.ExpectServedAsync(3);
    }

    /// <summary>An owner with a bug: its head handler throws.</summary>
    private sealed class ThrowingOwner : IHttp2StreamHandler
    {
        public void OnHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream) => throw new InvalidOperationException("a bug of the owner's");

        public void OnData(Http2Stream stream, System.Buffers.ReadOnlySequence<byte> data, bool endStream) { }

        public void OnReset(Http2Stream stream, Http2ErrorCode code, Exception? error) { }
    }

    [Fact]
    public async Task UpperCaseFieldName_ResetsTheStream_ProtocolError_AndTheNextStreamIsServed()
    {
        await using var test = await RawSession.ServeAsync();
        await test.Peer.RequestAsync(1, "/shouting", endStream: true, ("X-Upper", "1"));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        Assert.Empty(test.Owners); // a malformed request reaches no owner
        await test.ExpectServedAsync(3);
    }

    [Fact]
    public async Task HeadersWithoutEndHeaders_ThenAnotherStreamsFrame_EndsTheConnection_ProtocolError()
    {
        await using var test = await RawSession.ServeAsync();
        var block = test.Peer.Block((":method", "GET"), (":scheme", "http"), (":authority", "test"), (":path", "/half"));
        var next = test.Peer.Block((":method", "GET"), (":scheme", "http"), (":authority", "test"), (":path", "/other"));
        await test.Peer.WriteAsync(w =>
        {
            new Http2FrameHeader(block.Length / 2, Http2FrameType.Headers, Http2Flags.EndStream, 1).Write(w.GetSpan(Http2FrameHeader.Size));
            w.Advance(Http2FrameHeader.Size);
            w.Write(block.AsSpan(0, block.Length / 2));
            Http2FrameWriter.WriteHeaders(w, 3, next, endStream: true, Http2Frames.MinMaxFrameSize);
        });

        await test.ExpectGoneAwayAsync(Http2ErrorCode.ProtocolError, lastStreamId: 0);
        Assert.Empty(test.Owners);
    }

    [Fact]
    public async Task BadHPackBlock_EndsTheConnection_CompressionError()
    {
        await using var test = await RawSession.ServeAsync();
        // 0x80 is an indexed field with index 0, which RFC 7541 §6.1 forbids.
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteHeaders(w, 1, [0x82, 0x80], endStream: true, Http2Frames.MinMaxFrameSize));

        await test.ExpectGoneAwayAsync(Http2ErrorCode.CompressionError, lastStreamId: 0); // stream 1 was never taken
        Assert.Empty(test.Owners);
    }

    [Fact]
    public async Task Ping_IsAnsweredWithAnAck_CarryingTheSameData()
    {
        await using var test = await RawSession.ServeAsync();
        await test.ExpectPingAnsweredAsync();

        await test.Peer.WriteAsync(w => Http2FrameWriter.WritePingAck(w, 42)); // an ACK is not answered
        await test.ExpectServedAsync(1, skipped => Assert.DoesNotContain(skipped, f => f.Header.Type == Http2FrameType.Ping));
    }
}
