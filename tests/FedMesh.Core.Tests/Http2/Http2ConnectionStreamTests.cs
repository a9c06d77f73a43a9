using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// <see cref="Http2Connection"/>'s streams against a raw peer where real peers rarely go: a send window the peer's new
/// setting takes below zero, data dropped with a reset stream, an interim (1xx) response, and our stream limit.
/// </summary>
public sealed class Http2ConnectionStreamTests
{
    [Fact]
    public async Task PeerShrinksTheInitialWindow_BelowWhatWasSent_OurSendWaitsForItsUpdates()
    {
        await using var test = await RawSession.ConnectAsync();
        var log = new StreamLog();
        var body = Kit.Pattern(80_000);
        Assert.True(test.Connection.Connection.TryOpenStream(log, out var stream));
        await stream.SendHeadersAsync(Kit.Fields((":method", "POST"), (":scheme", "http"), (":authority", "test"), (":path", "/up")), endStream: false);
        await stream.SendDataAsync(body.AsMemory(0, 60_000), endStream: false);
        Assert.Equal(60_000, await ReadDataAsync(test.Peer, 60_000));

        // SETTINGS_INITIAL_WINDOW_SIZE 0 takes the stream's window from 5,535 to -60,000 (RFC 9113 §6.9.2).
        await test.Peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.InitialWindowSize, 0)]);
            Http2FrameWriter.WriteWindowUpdate(w, 0, 1 << 20);
        });
        var ack = await test.Peer.ReadUntilAsync(Http2FrameType.Settings);
        Assert.True(ack.Header.Has(Http2Flags.Ack));
        var rest = stream.SendDataAsync(body.AsMemory(60_000), endStream: true).AsTask();

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteWindowUpdate(w, 1, 70_000)); // to 10,000
        var first = ReadDataAsync(test.Peer, 10_000);
        await Task.WhenAny(first, rest); // the send's failure, should it fail, shows at once
        Assert.False(rest.IsFaulted, $"the send failed: {rest.Exception?.InnerException}");
        Assert.Equal(10_000, await first);
        Assert.False(rest.IsCompleted, "the send finished with 10,000 octets of window for 20,000");
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteWindowUpdate(w, 1, 10_000));
        Assert.Equal(10_000, await ReadDataAsync(test.Peer, 10_000, endStream: true));
        await rest.WaitAsync(Eventually.DefaultTimeout);
    }

    [Fact]
    public async Task DataDroppedWithAResetStream_IsGivenBackToTheConnectionWindow()
    {
        // The connection's window stays 65,535; five streams each overrun their 1,000 octets with a 16,384-octet frame,
        // which is dropped with the stream. Unless the connection gives dropped data back, the fifth overruns it too.
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { ConnectionWindow = 65_535, StreamWindow = 1000 }, () => new StreamLog());
        var updates = new List<PeerFrame>();
        for (var id = 1; id <= 9; id += 2)
        {
            await test.Peer.RequestAsync(id, "/up", endStream: false);
            await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, id, new byte[Http2Frames.MinMaxFrameSize], endStream: false, Http2Frames.MinMaxFrameSize));
            var reset = await test.Peer.ReadUntilAsync(Http2FrameType.RstStream, updates);
            Assert.Equal(id, reset.Header.StreamId);
            Assert.Equal(Http2ErrorCode.FlowControlError, Http2FrameReader.ReadRstStream(reset.Header, reset.Sequence));
        }
        await test.ExpectPingAnsweredAsync();
        Assert.Contains(updates, f => f.Header.Type == Http2FrameType.WindowUpdate && f.Header.StreamId == 0);
        Assert.All(test.Owners.Cast<StreamLog>(), owner => Assert.Equal((1, Http2ErrorCode.FlowControlError), (owner.Resets, owner.ResetCode)));
    }

    [Fact]
    public async Task InterimResponse_ThenTheFinalOne_DataAndTrailers_AllReachTheOwner()
    {
        await using var test = await RawSession.ConnectAsync();
        var log = new StreamLog();
        await test.Connection.RequestAsync(log, "GET", "/early-hints", "test");
        await test.Peer.ReadUntilAsync(Http2FrameType.Headers);

        await test.Peer.HeadersAsync(1, endStream: false, (":status", "103"), ("link", "</style.css>; rel=preload"));
        await test.Peer.HeadersAsync(1, endStream: false, (":status", "200"), ("content-type", "text/plain"));
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, "abc"u8, endStream: false, Http2Frames.MinMaxFrameSize));
        await test.Peer.HeadersAsync(1, endStream: true, ("x-trailer", "done"));
        await log.EndedAsync();

        Assert.Equal(0, log.Resets);
        Assert.Equal(["103", "200", null], log.Blocks.Select(b => b.GetValueOrDefault(":status")));
        Assert.Equal("abc"u8.ToArray(), log.Body);
        Assert.Equal("done", log.Trailers?["x-trailer"]);
        await Eventually.TrueAsync(() => test.Connection.Connection.ActiveStreams == 0, "the finished stream retired");
    }

    [Fact]
    public async Task StreamsPastOurLimit_AreRefused_AndTheLimitFreesAsStreamsEnd()
    {
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { MaxConcurrentStreams = 2 }, () => new StreamLog());
        await test.Peer.RequestAsync(1, "/a", endStream: false);
        await test.Peer.RequestAsync(3, "/b", endStream: false);
        await test.Peer.RequestAsync(5, "/c", endStream: true);

        Assert.Equal((5, Http2ErrorCode.RefusedStream), await test.Peer.ReadResetAsync());
        Assert.Equal(2, test.Owners.Count);

        // Stream 1 ends both ways: its place is free for stream 7.
        var first = (StreamLog)test.Owners.First();
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, [], endStream: true, Http2Frames.MinMaxFrameSize));
        await first.EndedAsync();
        await first.Stream!.SendHeadersAsync(Kit.Fields((":status", "204")), endStream: true);
        Assert.Equal(1, (await test.Peer.ReadUntilAsync(Http2FrameType.Headers)).Header.StreamId);
        await test.Peer.RequestAsync(7, "/d", endStream: true);
        await Eventually.TrueAsync(() => test.Owners.Count == 3, "stream 7 taken");
        Assert.Equal(7, ((StreamLog)test.Owners.Last()).Stream!.Id);
    }

    /// <summary>DATA frames on stream 1 up to <paramref name="expected"/> octets; what arrived, the last frame's END_STREAM checked.</summary>
    private static async Task<int> ReadDataAsync(Http2RawPeer peer, int expected, bool endStream = false)
    {
        var total = 0;
        while (total < expected)
        {
            var frame = await peer.ReadUntilAsync(Http2FrameType.Data);
            Assert.Equal(1, frame.Header.StreamId);
            total += frame.Payload.Length;
            Assert.Equal(endStream && total >= expected, frame.Header.Has(Http2Flags.EndStream));
        }
        return total;
    }
}
