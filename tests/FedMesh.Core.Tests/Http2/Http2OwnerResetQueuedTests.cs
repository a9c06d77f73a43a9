using System.Collections.Concurrent;
using System.Diagnostics;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// An owner's reset while another stream's send holds the writer (the peer reads slowly): the RST_STREAM waits with
/// the other control frames, written by the next writer, instead of a bounded wait for the writer that dropped it.
/// </summary>
public sealed class Http2OwnerResetQueuedTests
{
    [Fact]
    public async Task OwnerResetsWhileABigSendHoldsTheWriter_ResetReturnsAtOnce_AndThePeerGetsItOnceItReads()
    {
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        ours.SendBufferSize = 64 * 1024; // fixed, as the peer's receive buffer: the sockets hold far less than the body
        theirs.ReceiveBufferSize = 64 * 1024;
        var owners = new ConcurrentQueue<StreamLog>();
        await using var connection = RunningConnection.Server(ours, _ =>
        {
            var owner = new StreamLog();
            owners.Enqueue(owner);
            return owner;
        });
        await using var peer = new Http2RawPeer(theirs);
        await peer.StartAsClientAsync();
        await peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.InitialWindowSize, int.MaxValue)]);
            Http2FrameWriter.WriteWindowUpdate(w, 0, int.MaxValue - 65_535);
        });
        Assert.True((await peer.ReadUntilAsync(Http2FrameType.Settings)).Header.Has(Http2Flags.Ack));
        await peer.RequestAsync(1, "/big", endStream: true);
        await peer.RequestAsync(3, "/other", endStream: false);
        await Eventually.TrueAsync(() => owners.Count == 2 && owners.All(o => o.Stream is not null), "both streams taken");
        var big = owners.Single(o => o.Stream!.Id == 1).Stream!;
        var other = owners.Single(o => o.Stream!.Id == 3).Stream!;
        await big.SendHeadersAsync(Kit.Fields((":status", "200")), endStream: false);
        var body = Kit.Pattern(4 * 1024 * 1024, seed: 7);
        var sending = big.SendDataAsync(body, endStream: true).AsTask();
        await Task.Delay(200);
        Assert.False(sending.IsCompleted, "premise: the body's send waits for the peer to read, holding the writer");

        var resetting = Stopwatch.StartNew();
        other.Reset(Http2ErrorCode.Cancel);
        Assert.True(resetting.Elapsed < TimeSpan.FromMilliseconds(500), $"the reset waited {resetting.Elapsed.TotalMilliseconds:0} ms for the writer");
        await Task.Delay(1200); // past the one-second wait that used to give the frame up

        // The peer reads now: all of stream 1's body, and stream 3's reset.
        var received = 0;
        var bodyEnded = false;
        (int, Http2ErrorCode)? resetSeen = null;
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        while (!(bodyEnded && resetSeen is not null))
        {
            var frame = await peer.ReadFrameAsync().WaitAsync(deadline.Token);
            if (frame.Header.Type == Http2FrameType.Data && frame.Header.StreamId == 1)
            {
                received += frame.Payload.Length;
                bodyEnded = frame.Header.Has(Http2Flags.EndStream);
            }
            else if (frame.Header.Type == Http2FrameType.RstStream)
                resetSeen = (frame.Header.StreamId, (Http2ErrorCode)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame.Payload));
        }
        Assert.Equal(body.Length, received);
        Assert.Equal((3, Http2ErrorCode.Cancel), resetSeen);
        await sending.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(0, connection.Connection.ActiveStreams);
    }
}
