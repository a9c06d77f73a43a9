using System.Collections.Concurrent;
using FedMesh.Core.Http2;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// Our connection on one end of a loopback socket and a raw peer on the other, prefaces and settings exchanged: our
/// server and a raw client (<see cref="ServeAsync"/>), or our client and a raw server (<see cref="ConnectAsync"/>).
/// </summary>
internal sealed class RawSession : IAsyncDisposable
{
    private RawSession(Http2RawPeer peer, RunningConnection connection, ConcurrentQueue<IHttp2StreamHandler> owners)
    {
        Peer = peer;
        Connection = connection;
        Owners = owners;
    }

    public Http2RawPeer Peer { get; }

    public RunningConnection Connection { get; }

    public ConcurrentQueue<IHttp2StreamHandler> Owners { get; }

    /// <summary>Our server, with a raw client.</summary>
    /// <param name="newOwner">Makes each stream's owner; an <see cref="EchoOwner"/> unless told.</param>
    public static async Task<RawSession> ServeAsync(Http2ConnectionOptions? options = null, Func<IHttp2StreamHandler>? newOwner = null)
    {
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        var owners = new ConcurrentQueue<IHttp2StreamHandler>();
        var connection = RunningConnection.Server(ours, _ =>
        {
            var owner = newOwner?.Invoke() ?? new EchoOwner();
            owners.Enqueue(owner);
            return owner;
        }, options);
        var peer = new Http2RawPeer(theirs);
        await peer.StartAsClientAsync();
        return new RawSession(peer, connection, owners);
    }

    /// <summary>Our client, with a raw server.</summary>
    public static async Task<RawSession> ConnectAsync(Http2ConnectionOptions? options = null)
    {
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        var connection = RunningConnection.Client(ours, options);
        var peer = new Http2RawPeer(theirs);
        await peer.StartAsServerAsync();
        return new RawSession(peer, connection, new ConcurrentQueue<IHttp2StreamHandler>());
    }

    /// <summary>A GET on <paramref name="streamId"/> gets its echo: head, then trailers ending the stream.</summary>
    public async Task ExpectServedAsync(int streamId, Action<List<PeerFrame>>? checkSkipped = null)
    {
        await Peer.RequestAsync(streamId, "/next", endStream: true);
        var skipped = new List<PeerFrame>();
        var head = await Peer.ReadUntilAsync(Http2FrameType.Headers, skipped);
        var trailers = await Peer.ReadUntilAsync(Http2FrameType.Headers, skipped);
        Assert.Equal([streamId, streamId], [head.Header.StreamId, trailers.Header.StreamId]);
        Assert.False(head.Header.Has(Http2Flags.EndStream));
        Assert.True(trailers.Header.Has(Http2Flags.EndStream));
        Assert.Equal(("200", "GET /next"), (head.Fields![":status"], head.Fields["x-echo"]));
        Assert.Equal("done", trailers.Fields!["x-trailer"]);
        checkSkipped?.Invoke(skipped);
    }

    /// <summary>The connection ended with GOAWAY (<paramref name="code"/>, <paramref name="lastStreamId"/>), then as <see cref="ExpectEndedAsync"/> says.</summary>
    public async Task ExpectGoneAwayAsync(Http2ErrorCode code, int lastStreamId)
    {
        var goAway = await Peer.ReadGoAwayAndEndAsync();
        Assert.Equal((code, lastStreamId), (goAway.ErrorCode, goAway.LastStreamId));
        await ExpectEndedAsync();
    }

    /// <summary>The read loop returned, no stream is left, and each owner (all <see cref="StreamLog"/>s) heard one reset: CANCEL, the connection's end.</summary>
    public async Task ExpectEndedAsync()
    {
        await Connection.EndedAsync();
        Assert.True(Connection.Connection.IsClosed);
        Assert.Equal(0, Connection.Connection.ActiveStreams);
        foreach (var owner in Owners.Cast<StreamLog>())
            Assert.Equal((1, Http2ErrorCode.Cancel), (owner.Resets, owner.ResetCode));
    }

    /// <summary>A PING gets its ACK, with the same data.</summary>
    public async Task ExpectPingAnsweredAsync()
    {
        var data = (ulong)Random.Shared.NextInt64();
        await Peer.WriteAsync(w => Http2FrameWriter.WritePing(w, data));
        var pong = await Peer.ReadUntilAsync(Http2FrameType.Ping);
        Assert.True(pong.Header.Has(Http2Flags.Ack));
        Assert.Equal(data, Http2FrameReader.ReadPing(pong.Header, pong.Sequence));
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Peer.DisposeAsync();
    }
}
