using FedMesh.Core.Http2;
using FedMesh.Core.Tests.Identity;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// Header blocks on a fresh client connection, before the peer's first SETTINGS has come (until then its
/// SETTINGS_MAX_HEADER_LIST_SIZE is unknown): a small block goes at once, a large one (past 16 KiB) waits for the
/// SETTINGS and is then sent or refused by the limit they carry; the wait ends with a clear error when the connection
/// ends first, or when no SETTINGS come within the settings timeout. Against a raw server that holds its SETTINGS back.
/// </summary>
public sealed class Http2HeaderListBeforeSettingsTests
{
    private const int Big = 20_000; // a value past 16 KiB, that still fits one frame once Huffman-encoded

    [Fact]
    public async Task SmallHeadGoesBeforeThePeersSettings_ALargeOneWaitsForThem_AndIsRefusedPastTheirLimit()
    {
        var (connection, peer) = await FreshAsync();
        await using var _ = connection;
        await using var __ = peer;
        Assert.True(connection.Connection.TryOpenStream(new StreamLog(), out var large));
        var head = Request("/large", new string('a', Big));
        Assert.True(Http2Connection.HeaderListSize(head) > Http2Connection.UnsettledHeaderListSize);
        Assert.False(large.TrySendHeadersNow(head, endStream: true)); // nothing sent: the async way waits
        var waiting = large.SendHeadersAsync(head, endStream: true).AsTask();

        await connection.RequestAsync(new StreamLog(), "GET", "/small", "test");

        var first = await peer.ReadUntilAsync(Http2FrameType.Headers);
        Assert.Equal((1, "/small"), (first.Header.StreamId, first.Fields![":path"]));
        Assert.False(waiting.IsCompleted);
        await PeerSettingsAsync(peer, maxHeaderListSize: 1000);

        var error = await Assert.ThrowsAsync<Http2HeaderListTooLargeException>(() => waiting.WaitAsync(Eventually.DefaultTimeout));
        Assert.Equal((0, 1000), (error.StreamId, error.Limit));
        Assert.Contains("SETTINGS_MAX_HEADER_LIST_SIZE of 1000", error.Message);
        var skipped = new List<PeerFrame>();
        Assert.True((await peer.ReadUntilAsync(Http2FrameType.Ping, skipped)).Header.Has(Http2Flags.Ack));
        Assert.DoesNotContain(skipped, f => f.Header.Type is Http2FrameType.Headers or Http2FrameType.Continuation or Http2FrameType.RstStream);
        Assert.Contains(skipped, f => f.Header.Type == Http2FrameType.Settings && f.Header.Has(Http2Flags.Ack));
        await connection.RequestAsync(new StreamLog(), "GET", "/after", "test");
        var after = await peer.ReadUntilAsync(Http2FrameType.Headers);
        Assert.Equal((3, "/after"), (after.Header.StreamId, after.Fields![":path"]));
    }

    [Fact]
    public async Task LargeHeadWaitsForThePeersSettings_AndIsSentUnderTheirLimit()
    {
        var (connection, peer) = await FreshAsync();
        await using var _ = connection;
        await using var __ = peer;
        Assert.True(connection.Connection.TryOpenStream(new StreamLog(), out var large));
        var waiting = large.SendHeadersAsync(Request("/large", new string('a', Big)), endStream: true).AsTask();
        await connection.RequestAsync(new StreamLog(), "GET", "/small", "test");
        var first = await peer.ReadUntilAsync(Http2FrameType.Headers);
        Assert.Equal((1, "/small"), (first.Header.StreamId, first.Fields![":path"]));
        Assert.False(waiting.IsCompleted);

        await PeerSettingsAsync(peer, maxHeaderListSize: 64 * 1024);

        await waiting.WaitAsync(Eventually.DefaultTimeout);
        var headers = await peer.ReadUntilAsync(Http2FrameType.Headers);
        Assert.Equal((3, "/large", Big), (headers.Header.StreamId, headers.Fields![":path"], headers.Fields["x-big"].Length));
    }

    [Fact]
    public async Task ConnectionEndsBeforeThePeersSettings_TheWaitingSendFails_SayingWhy()
    {
        var (connection, peer) = await FreshAsync();
        await using var _ = connection;
        Assert.True(connection.Connection.TryOpenStream(new StreamLog(), out var large));
        var waiting = large.SendHeadersAsync(Request("/large", new string('a', Big)), endStream: true).AsTask();

        await peer.DisposeAsync(); // gone without a SETTINGS frame

        var error = await Assert.ThrowsAsync<IOException>(() => waiting.WaitAsync(Eventually.DefaultTimeout));
        Assert.Contains("ended before the peer's SETTINGS came", error.Message);
        Assert.Contains("was not sent", error.Message);
        await connection.EndedAsync();
    }

    [Fact]
    public async Task NoSettingsWithinTheSettingsTimeout_TheWaitingSendFails_OnTheConnectionsClock()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        await using var peer = new Http2RawPeer(theirs);
        // Not run: nothing is read, so no SETTINGS can come.
        await using var connection = new Http2Connection(new SocketPipe(ours), isServer: false,
            new Http2ConnectionOptions { SettingsTimeout = TimeSpan.FromSeconds(5), TimeProvider = clock });
        Assert.True(connection.TryOpenStream(new StreamLog(), out var large));
        var waiting = large.SendHeadersAsync(Request("/large", new string('a', Big)), endStream: true).AsTask();
        await Eventually.TrueAsync(() => clock.PendingTimers == 1, "the wait on the clock");

        clock.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(waiting.IsCompleted);
        clock.Advance(TimeSpan.FromSeconds(0.1));

        var error = await Assert.ThrowsAsync<TimeoutException>(() => waiting.WaitAsync(Eventually.DefaultTimeout));
        Assert.Contains("within 5 s", error.Message);
        Assert.Contains("SETTINGS_MAX_HEADER_LIST_SIZE", error.Message);
    }

    /// <summary>Our client, running, and a raw server that has read its preface and SETTINGS and sent nothing yet.</summary>
    private static async Task<(RunningConnection Connection, Http2RawPeer Peer)> FreshAsync()
    {
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        var connection = RunningConnection.Client(ours, new Http2ConnectionOptions { SettingsTimeout = TimeSpan.FromMinutes(1) });
        var peer = new Http2RawPeer(theirs);
        Assert.Equal(Http2Frames.ConnectionPreface.ToArray(), await peer.ReadAsync(Http2Frames.ConnectionPreface.Length));
        var settings = await peer.ReadFrameAsync();
        Assert.Equal((Http2FrameType.Settings, false), (settings.Header.Type, settings.Header.Has(Http2Flags.Ack)));
        return (connection, peer);
    }

    /// <summary>The raw server's SETTINGS at last, with its header list limit, its ACK of ours and a PING (answered after both).</summary>
    private static Task PeerSettingsAsync(Http2RawPeer peer, uint maxHeaderListSize) =>
        peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.MaxHeaderListSize, maxHeaderListSize)]);
            Http2FrameWriter.WriteSettingsAck(w);
            Http2FrameWriter.WritePing(w, 1);
        });

    private static Http2HeaderList Request(string path, string big) =>
        Kit.Fields((":method", "GET"), (":scheme", "http"), (":authority", "test"), (":path", path), ("x-big", big));
}
