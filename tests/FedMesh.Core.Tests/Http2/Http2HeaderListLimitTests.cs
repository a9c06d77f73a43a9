using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The peer's SETTINGS_MAX_HEADER_LIST_SIZE when we send (RFC 9113 §6.5.2 sizing: names, values and 32 octets a field),
/// against a raw peer: a block past it is not sent, not even in part; the send fails naming the size and the limit; a
/// client's stream is not opened, a server's is reset with INTERNAL_ERROR; a block of exactly the limit goes.
/// </summary>
public sealed class Http2HeaderListLimitTests
{
    private const int Limit = 300;

    [Fact]
    public async Task OurRequestPastThePeersLimit_IsNotSent_TheSendFails_TheStreamIsNotOpened()
    {
        await using var test = await RawSession.ConnectAsync();
        await PeerLimitsHeaderListAsync(test.Peer);
        var connection = test.Connection.Connection;
        Assert.True(connection.TryOpenStream(new StreamLog(), out var stream));
        var head = Request("/big", ("x-big", new string('a', 200)));
        var size = Http2Connection.HeaderListSize(head);
        Assert.True(size > Limit, $"the head is {size} octets");

        Assert.False(stream.TrySendHeadersNow(head, endStream: true)); // nothing sent, nothing changed: the async way says why
        var error = await Assert.ThrowsAsync<Http2HeaderListTooLargeException>(() => stream.SendHeadersAsync(head, endStream: true).AsTask());

        Assert.Equal((0, size, Limit), (error.StreamId, error.Size, error.Limit));
        Assert.Contains($"its header list is {size} octets", error.Message);
        Assert.Contains($"SETTINGS_MAX_HEADER_LIST_SIZE of {Limit}", error.Message);
        Assert.Contains("the stream was not opened", error.Message);
        Assert.Equal(0, connection.ActiveStreams);
        stream.Reset(Http2ErrorCode.Cancel); // what an owner does with a stream that failed: nothing more goes out
        Assert.Equal(0, connection.ActiveStreams);

        // The next request is the first the peer sees: stream 1, decoded with the tables in step.
        var next = new StreamLog();
        await test.Connection.RequestAsync(next, "GET", "/small", "test");
        var skipped = new List<PeerFrame>();
        var headers = await test.Peer.ReadUntilAsync(Http2FrameType.Headers, skipped);
        Assert.Equal((1, "/small"), (headers.Header.StreamId, headers.Fields![":path"]));
        Assert.DoesNotContain(skipped, f => f.Header.Type is Http2FrameType.RstStream or Http2FrameType.Continuation);
    }

    [Fact]
    public async Task OurRequestOfExactlyThePeersLimit_IsSent()
    {
        await using var test = await RawSession.ConnectAsync();
        await PeerLimitsHeaderListAsync(test.Peer);
        var head = Request("/x", ("x-pad", ""));
        var pad = Limit - (int)Http2Connection.HeaderListSize(head);
        head = Request("/x", ("x-pad", new string('p', pad)));
        Assert.Equal(Limit, Http2Connection.HeaderListSize(head));
        Assert.True(test.Connection.Connection.TryOpenStream(new StreamLog(), out var stream));

        await stream.SendHeadersAsync(head, endStream: true);

        var headers = await test.Peer.ReadUntilAsync(Http2FrameType.Headers);
        Assert.Equal(new string('p', pad), headers.Fields!["x-pad"]);
    }

    [Fact]
    public async Task OurResponsePastThePeersLimit_IsNotSent_TheStreamIsReset_InternalError()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await PeerLimitsHeaderListAsync(test.Peer);
        await test.Peer.RequestAsync(1, "/a", endStream: true);
        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        var owner = (StreamLog)test.Owners.Single();

        var error = await Assert.ThrowsAsync<Http2HeaderListTooLargeException>(() =>
            owner.Stream!.SendHeadersAsync(Kit.Fields((":status", "200"), ("x-big", new string('b', Limit))), endStream: true).AsTask());

        Assert.Equal((1, Http2ErrorCode.InternalError), (error.StreamId, error.ErrorCode));
        Assert.Contains("stream 1's header block was not sent", error.Message);
        Assert.Contains("the stream was reset (INTERNAL_ERROR)", error.Message);
        var skipped = new List<PeerFrame>();
        var reset = await test.Peer.ReadUntilAsync(Http2FrameType.RstStream, skipped);
        Assert.Equal((1, Http2ErrorCode.InternalError), (reset.Header.StreamId, Http2FrameReader.ReadRstStream(reset.Header, reset.Sequence)));
        Assert.DoesNotContain(skipped, f => f.Header.Type is Http2FrameType.Headers or Http2FrameType.Continuation);
        Assert.Equal(0, test.Connection.Connection.ActiveStreams);
        Assert.Equal(0, owner.Resets); // the sender heard it from its send
        await test.ExpectPingAnsweredAsync();
    }

    [Fact]
    public async Task OurTrailersPastThePeersLimit_AreNotSent_TheStreamIsReset_AfterTheHeadAndData()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await PeerLimitsHeaderListAsync(test.Peer);
        await test.Peer.RequestAsync(1, "/a", endStream: true);
        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        var stream = ((StreamLog)test.Owners.Single()).Stream!;
        await stream.SendHeadersAsync(Kit.Fields((":status", "200")), endStream: false);
        await stream.SendDataAsync("body"u8.ToArray(), endStream: false);

        await Assert.ThrowsAsync<Http2HeaderListTooLargeException>(() =>
            stream.SendHeadersAsync(Kit.Fields(("x-trailer", new string('t', Limit))), endStream: true).AsTask());

        var frames = new List<PeerFrame>();
        var reset = await test.Peer.ReadUntilAsync(Http2FrameType.RstStream, frames);
        Assert.Equal(Http2ErrorCode.InternalError, Http2FrameReader.ReadRstStream(reset.Header, reset.Sequence));
        Assert.Equal([Http2FrameType.Headers, Http2FrameType.Data],
            frames.Where(f => f.Header.StreamId == 1).Select(f => f.Header.Type));
        await Assert.ThrowsAsync<Http2StreamException>(() => stream.SendDataAsync("more"u8.ToArray(), endStream: true).AsTask());
    }

    /// <summary>
    /// The raw peer sets SETTINGS_MAX_HEADER_LIST_SIZE to <see cref="Limit"/>, then PINGs: the answer comes after the
    /// setting was taken in (frames are acted on in order; an ACK alone could be that of the peer's first SETTINGS).
    /// </summary>
    private static async Task PeerLimitsHeaderListAsync(Http2RawPeer peer)
    {
        await peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.MaxHeaderListSize, Limit)]);
            Http2FrameWriter.WritePing(w, 1);
        });
        Assert.True((await peer.ReadUntilAsync(Http2FrameType.Ping)).Header.Has(Http2Flags.Ack));
    }

    private static Http2HeaderList Request(string path, (string Name, string Value) extra) =>
        Kit.Fields((":method", "GET"), (":scheme", "http"), (":authority", "test"), (":path", path), extra);
}
