using System.IO.Pipelines;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// How an <see cref="Http2Connection"/> ends, and what its streams' owners hear then: the peer's GOAWAY, the peer
/// closing the socket under either role, and our own dispose, a transport that fails to complete included. Every open
/// stream's owner hears OnReset exactly once.
/// </summary>
public sealed class Http2ConnectionLifetimeTests
{
    [Fact]
    public async Task PeersGoAway_RefusesOurStreamsAboveItsLast_KeepsTheRest_OpensNoMore()
    {
        await using var test = await RawSession.ConnectAsync();
        var logs = new[] { new StreamLog(), new StreamLog(), new StreamLog() };
        foreach (var log in logs)
            await test.Connection.RequestAsync(log, "GET", "/", "test");
        for (var i = 0; i < 3; i++)
            Assert.Equal(2 * i + 1, (await test.Peer.ReadUntilAsync(Http2FrameType.Headers)).Header.StreamId);

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteGoAway(w, 1, Http2ErrorCode.NoError));

        await Task.WhenAll(logs[1].EndedAsync(), logs[2].EndedAsync());
        foreach (var refused in logs[1..])
            Assert.Equal((1, Http2ErrorCode.RefusedStream), (refused.Resets, refused.ResetCode));
        Assert.True(test.Connection.Connection.IsDraining);
        Assert.False(test.Connection.Connection.TryOpenStream(new StreamLog(), out _));

        // Stream 1, below the peer's last, is still answered.
        Assert.False(logs[0].Ended.IsCompleted);
        await test.Peer.HeadersAsync(1, endStream: true, (":status", "200"));
        await logs[0].EndedAsync();
        Assert.Equal((0, "200"), (logs[0].Resets, logs[0].Head[":status"]));
        Assert.Equal(0, test.Connection.Connection.ActiveStreams);
    }

    [Fact]
    public async Task PeerCloses_ServersRunReturns_EachOpenStreamsOwnerHearsResetOnce()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog()); // owners that never answer
        await test.Peer.RequestAsync(1, "/a", endStream: true);
        await test.Peer.RequestAsync(3, "/b", endStream: true);
        await test.Peer.RequestAsync(5, "/c", endStream: false);
        await Eventually.TrueAsync(() => test.Owners.Count == 3, "three streams taken");

        await test.Peer.DisposeAsync();

        await test.ExpectEndedAsync();
        await test.DisposeAsync(); // a dispose after the end tells no one again
        await test.ExpectEndedAsync();
        Assert.All(test.Owners.Cast<StreamLog>(), owner => Assert.IsType<IOException>(owner.ResetError));
    }

    [Fact]
    public async Task PeerCloses_ClientsRunReturns_OwnersHearResetOnce_AndSendsFail()
    {
        await using var test = await RawSession.ConnectAsync();
        var (get, post) = (new StreamLog(), new StreamLog());
        await test.Connection.RequestAsync(get, "GET", "/a", "test");
        Assert.True(test.Connection.Connection.TryOpenStream(post, out var upload));
        await upload.SendHeadersAsync(Kit.Fields((":method", "POST"), (":scheme", "http"), (":authority", "test"), (":path", "/b")), endStream: false);
        await upload.SendDataAsync(new byte[100], endStream: false);
        await test.Peer.ReadUntilAsync(Http2FrameType.Data);

        await test.Peer.DisposeAsync();

        await test.Connection.EndedAsync();
        await Assert.ThrowsAsync<IOException>(() => upload.SendDataAsync(new byte[100], endStream: true).AsTask());
        Assert.False(test.Connection.Connection.TryOpenStream(new StreamLog(), out _));
        await test.DisposeAsync();
        Assert.Equal((1, Http2ErrorCode.Cancel), (get.Resets, get.ResetCode));
        Assert.Equal((1, Http2ErrorCode.Cancel), (post.Resets, post.ResetCode));
    }

    [Fact]
    public async Task DisposeWhileRunning_SendsGoAway_RunReturns_OwnersHearResetOnce()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/a", endStream: true);
        await test.Peer.RequestAsync(3, "/b", endStream: false);
        await Eventually.TrueAsync(() => test.Owners.Count == 2, "two streams taken");

        await test.Connection.Connection.DisposeAsync();

        await test.ExpectGoneAwayAsync(Http2ErrorCode.NoError, lastStreamId: 3);
    }

    [Fact]
    public async Task RunCancelled_SendsGoAway_OwnersHearResetOnce()
    {
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        var log = new StreamLog();
        var transport = new SocketPipe(ours);
        var connection = new Http2Connection(transport, isServer: true, accept: _ => log);
        using var stop = new CancellationTokenSource();
        var run = connection.RunAsync(stop.Token);
        await using var peer = new Http2RawPeer(theirs);
        await peer.StartAsClientAsync();
        await peer.RequestAsync(1, "/a", endStream: true);
        await Eventually.TrueAsync(() => log.Stream is not null, "the stream taken");

        await stop.CancelAsync();

        Assert.Equal(Http2ErrorCode.NoError, (await peer.ReadGoAwayAndEndAsync()).ErrorCode);
        await run.WaitAsync(Eventually.DefaultTimeout);
        await connection.DisposeAsync();
        Assert.Equal((1, Http2ErrorCode.Cancel), (log.Resets, log.ResetCode));
        Assert.Empty(transport.Misuse);
    }

    [Fact]
    public async Task StreamOpenedBeforeThePeersGoAway_ItsHeadersAreRefused_AndItsResetLeavesTheCountRight()
    {
        await using var test = await RawSession.ConnectAsync();
        var connection = test.Connection.Connection;
        Assert.True(connection.TryOpenStream(new StreamLog(), out var late)); // no id yet: its head has not gone out
        Assert.Equal(1, connection.ActiveStreams);

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteGoAway(w, 0, Http2ErrorCode.NoError));
        await Eventually.TrueAsync(() => connection.IsDraining, "the GOAWAY heard");

        var refused = await Assert.ThrowsAsync<Http2StreamException>(() => late.SendHeadersAsync(Kit.Fields((":method", "GET")), endStream: true).AsTask());
        Assert.Equal(Http2ErrorCode.RefusedStream, refused.ErrorCode);
        late.Reset(Http2ErrorCode.Cancel); // what an owner does with a stream that failed
        late.Reset(Http2ErrorCode.Cancel);
        Assert.Equal(0, connection.ActiveStreams);
    }

    [Fact]
    public async Task PeerCloses_WhileOurSendWaitsForWindow_TheSendFails_OwnerHearsOnce()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/big", endStream: true);
        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        var owner = (StreamLog)test.Owners.Single();
        await owner.Stream!.SendHeadersAsync(Kit.Fields((":status", "200")), endStream: false);
        var send = owner.Stream.SendDataAsync(Kit.Pattern(200_000), endStream: true).AsTask(); // past the peer's 65,535
        await test.Peer.ReadUntilAsync(Http2FrameType.Data);

        await test.Peer.DisposeAsync();

        await test.Connection.EndedAsync();
        await Assert.ThrowsAsync<IOException>(() => send.WaitAsync(Eventually.DefaultTimeout));
        Assert.Equal((1, Http2ErrorCode.Cancel), (owner.Resets, owner.ResetCode));
    }

    [Fact]
    public async Task TransportWhoseOutputFailsToComplete_RunStillReturns_AndDisposeToo()
    {
        // A stream transport whose input, completed first, disposed the stream under the output's unflushed bytes.
        var (fromPeer, toPeer) = (new Pipe(), new Pipe());
        var transport = new FailingTransport(fromPeer.Reader, new FailsToComplete(toPeer.Writer));
        var connection = new Http2Connection(transport, isServer: false);
        var run = connection.RunAsync();
        var log = new StreamLog();
        Assert.True(connection.TryOpenStream(log, out _));

        await fromPeer.Writer.CompleteAsync(); // the peer closes

        await run.WaitAsync(Eventually.DefaultTimeout); // returns, and throws nothing
        await connection.DisposeAsync().AsTask().WaitAsync(Eventually.DefaultTimeout);
        Assert.True(connection.IsClosed);
    }

    private sealed class FailingTransport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    /// <summary>A writer that works until it is completed, which throws as a writer over a disposed stream does.</summary>
    private sealed class FailsToComplete(PipeWriter inner) : PipeWriter
    {
        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void Complete(Exception? exception = null) => throw new ObjectDisposedException("NetworkStream");
    }
}
