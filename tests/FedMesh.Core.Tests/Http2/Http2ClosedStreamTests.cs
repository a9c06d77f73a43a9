using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The peer's frames on streams that have closed (RFC 9113 §5.1), against a raw peer: DATA or HEADERS on a stream both
/// sides ended, or the peer reset, is answered with RST_STREAM STREAM_CLOSED; what crossed a reset of ours is ignored
/// (§5.4.2); dropped data goes back to the connection's window either way (§6.9), and the connection goes on.
/// </summary>
public sealed class Http2ClosedStreamTests
{
    [Fact]
    public async Task DataOnAStreamBothSidesEnded_IsAnsweredWithStreamClosed_ThenIgnored_ItsWindowGivenBack()
    {
        // The connection's window stays 65,535: the five frames below pass it unless dropped data is given back.
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { ConnectionWindow = 65_535 });
        await test.ExpectServedAsync(1);
        await Eventually.TrueAsync(() => test.Connection.Connection.ActiveStreams == 0, "stream 1 closed both ways");

        for (var i = 0; i < 5; i++)
            await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, new byte[Http2Frames.MinMaxFrameSize], endStream: false, Http2Frames.MinMaxFrameSize));

        var frames = await FramesBeforePingAnswerAsync(test);
        var reset = Assert.Single(frames, f => f.Header.Type == Http2FrameType.RstStream); // the frames after it crossed our reset
        Assert.Equal((1, Http2ErrorCode.StreamClosed), (reset.Header.StreamId, Http2FrameReader.ReadRstStream(reset.Header, reset.Sequence)));
        await test.ExpectServedAsync(3); // no FLOW_CONTROL_ERROR: 81,920 octets passed a window of 65,535
    }

    [Fact]
    public async Task HeadersOnAStreamBothSidesEnded_AreAnsweredWithStreamClosed_AndTheNextStreamIsServed()
    {
        await using var test = await RawSession.ServeAsync();
        await test.ExpectServedAsync(1);
        await Eventually.TrueAsync(() => test.Connection.Connection.ActiveStreams == 0, "stream 1 closed both ways");

        await test.Peer.HeadersAsync(1, endStream: true, ("x-late", "1"));

        Assert.Equal((1, Http2ErrorCode.StreamClosed), await test.Peer.ReadResetAsync());
        await test.ExpectServedAsync(3); // the late block was decoded: the HPACK tables agree still
    }

    [Fact]
    public async Task DataAfterThePeersOwnReset_IsAnsweredWithStreamClosed()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/up", endStream: false);
        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteRstStream(w, 1, Http2ErrorCode.Cancel));
        var owner = (StreamLog)test.Owners.Single();
        await owner.EndedAsync();

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, "late"u8, endStream: true, Http2Frames.MinMaxFrameSize));

        Assert.Equal((1, Http2ErrorCode.StreamClosed), await test.Peer.ReadResetAsync());
        Assert.Equal((1, Http2ErrorCode.Cancel), (owner.Resets, owner.ResetCode)); // told once, of the peer's reset
        Assert.Empty(owner.Body);
    }

    [Fact]
    public async Task OurClient_DataOnAResponseThatEnded_IsAnsweredWithStreamClosed()
    {
        await using var test = await RawSession.ConnectAsync();
        var log = new StreamLog();
        await test.Connection.RequestAsync(log, "GET", "/a", "test");
        await test.Peer.ReadUntilAsync(Http2FrameType.Headers);
        await test.Peer.HeadersAsync(1, endStream: true, (":status", "204"));
        await log.EndedAsync();
        await Eventually.TrueAsync(() => test.Connection.Connection.ActiveStreams == 0, "stream 1 closed both ways");

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, "late"u8, endStream: false, Http2Frames.MinMaxFrameSize));

        Assert.Equal((1, Http2ErrorCode.StreamClosed), await test.Peer.ReadResetAsync());
        Assert.Equal((0, "204"), (log.Resets, log.Head[":status"]));
    }

    [Fact]
    public async Task FramesCrossingTheOwnersReset_AreIgnored_HeadersAndDataAlike()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/up", endStream: false);
        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        ((StreamLog)test.Owners.Single()).Stream!.Reset(Http2ErrorCode.Cancel);
        Assert.Equal((1, Http2ErrorCode.Cancel), await test.Peer.ReadResetAsync());

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, "sent before the reset came"u8, endStream: false, Http2Frames.MinMaxFrameSize));
        await test.Peer.HeadersAsync(1, endStream: true, ("x-trailer", "done"));

        var frames = await FramesBeforePingAnswerAsync(test);
        Assert.DoesNotContain(frames, f => f.Header.Type == Http2FrameType.RstStream);
        Assert.Equal(0, ((StreamLog)test.Owners.Single()).Resets);
    }

    [Fact]
    public async Task FramesCrossingOurResetForAStreamError_AreIgnored()
    {
        await using var test = await RawSession.ServeAsync();
        await test.Peer.RequestAsync(1, "/shouting", endStream: false, ("X-Upper", "1")); // malformed: reset with PROTOCOL_ERROR
        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, "body"u8, endStream: true, Http2Frames.MinMaxFrameSize));

        var frames = await FramesBeforePingAnswerAsync(test);
        Assert.DoesNotContain(frames, f => f.Header.Type == Http2FrameType.RstStream);
        await test.ExpectServedAsync(3);
    }

    /// <summary>Sends a PING and returns what came before its answer: all our connection made of the frames before it.</summary>
    private static async Task<List<PeerFrame>> FramesBeforePingAnswerAsync(RawSession test)
    {
        await test.Peer.WriteAsync(w => Http2FrameWriter.WritePing(w, 99));
        var frames = new List<PeerFrame>();
        var pong = await test.Peer.ReadUntilAsync(Http2FrameType.Ping, frames);
        Assert.True(pong.Header.Has(Http2Flags.Ack));
        Assert.DoesNotContain(frames, f => f.Header.Type == Http2FrameType.GoAway);
        return frames;
    }
}
