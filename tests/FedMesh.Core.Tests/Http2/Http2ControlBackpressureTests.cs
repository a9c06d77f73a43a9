using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The read loop against a peer that does not read what it is answered: the PING and SETTINGS acknowledgements it
/// makes us send wait for the writer, while the read loop goes on reading (its DATA still delivered), up to
/// <see cref="Http2ConnectionOptions.MaxQueuedControlFrames"/>; past it the connection ends with ENHANCE_YOUR_CALM
/// (RFC 9113 §10.5).
/// </summary>
public sealed class Http2ControlBackpressureTests
{
    private const int Bound = 256;
    private const int PingsPerRound = 400, SettingsPerRound = 100, DataPerRound = 100;

    [Fact]
    public async Task PeerFloodsPingsAndSettingsWithoutReading_DataStillArrives_UntilTheBound_ThenEnhanceYourCalm()
    {
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        ours.SendBufferSize = 64 * 1024; // fixed (not grown by the kernel as it sees fit): the transport pushes back within some 200 KB
        var log = new StreamLog();
        await using var connection = RunningConnection.Server(ours, _ => log, new Http2ConnectionOptions { MaxQueuedControlFrames = Bound });
        await using var peer = new Http2RawPeer(theirs);
        await peer.StartAsClientAsync(); // the last read of this peer: from now on it only writes
        await peer.RequestAsync(1, "/upload", endStream: false);

        var body = new MemoryStream();
        var rounds = 0;
        while (!log.Ended.IsCompleted)
        {
            Assert.True(rounds < 2000, $"after {rounds} rounds ({rounds * (PingsPerRound + SettingsPerRound)} frames to answer) the connection has not ended");
            var data = Kit.Pattern(DataPerRound, seed: rounds);
            var ping = (ulong)rounds * PingsPerRound;
            try
            {
                await peer.WriteAsync(w =>
                {
                    for (var i = 0; i < PingsPerRound; i++)
                        Http2FrameWriter.WritePing(w, ping + (ulong)i);
                    for (var i = 0; i < SettingsPerRound; i++)
                        Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.HeaderTableSize, 4096)]);
                    Http2FrameWriter.WriteData(w, 1, data, endStream: false, Http2Frames.MinMaxFrameSize);
                });
            }
            catch (IOException) when (log.Ended.IsCompleted || connection.Run.IsCompleted)
            {
                break; // our side has closed the socket under this write
            }
            body.Write(data);
            rounds++;
            var expected = body.Length;
            // Delivered while nothing of ours is read: the read loop does not wait for its answers to go out.
            await Eventually.TrueAsync(() => log.Body.Length == expected || log.Ended.IsCompleted, $"round {rounds}'s DATA delivered",
                interval: TimeSpan.FromMilliseconds(2));
        }

        await log.EndedAsync();
        var error = Assert.IsType<Http2ConnectionException>(log.ResetError);
        Assert.Equal(Http2ErrorCode.EnhanceYourCalm, error.ErrorCode);
        Assert.Contains($"{Bound} control frames", error.Message);
        Assert.Contains("MaxQueuedControlFrames", error.Message);
        Assert.Equal((1, Http2ErrorCode.Cancel), (log.Resets, log.ResetCode));
        // Every DATA frame written before the end was delivered, in order, and the bound took more than the transport's buffers.
        Assert.Equal(body.ToArray().AsSpan(0, log.Body.Length).ToArray(), log.Body);
        Assert.True(log.Body.Length >= (rounds - 1) * DataPerRound, $"{log.Body.Length} octets delivered of {rounds} rounds");
        Assert.True(rounds * (PingsPerRound + SettingsPerRound) > 16 * Bound,
            $"the bound was passed after {rounds} rounds: before the socket buffers filled, the test shows nothing");
        await connection.EndedAsync(); // the read loop returns, though the peer never read: the transport closed under it
    }

    [Fact]
    public async Task PeerThatReads_FloodsPingsAndSettings_EachIsAnsweredInOrder_AndTheConnectionServes()
    {
        const int Pings = 600;
        await using var test = await RawSession.ServeAsync(new Http2ConnectionOptions { MaxQueuedControlFrames = 100 });

        // One write with every frame, read back while it goes: far more frames than the bound, none of which waits long.
        var flood = test.Peer.WriteAsync(w =>
        {
            for (var i = 0; i < Pings; i++)
            {
                Http2FrameWriter.WritePing(w, (ulong)i);
                if (i % 10 == 0)
                    Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.HeaderTableSize, 4096)]);
            }
        });
        var (acks, answered) = (0, 0UL);
        while (answered < Pings)
        {
            var frame = await test.Peer.ReadFrameAsync();
            if (frame.Header.Type == Http2FrameType.WindowUpdate)
                continue; // the connection's window, raised at the start
            Assert.NotEqual(Http2FrameType.GoAway, frame.Header.Type);
            Assert.True(frame.Header.Has(Http2Flags.Ack), $"{frame.Header} answers");
            if (frame.Header.Type == Http2FrameType.Settings)
            {
                acks++;
                continue;
            }
            Assert.Equal(answered++, Http2FrameReader.ReadPing(frame.Header, frame.Sequence));
        }
        await flood;

        Assert.Equal(Pings / 10 + 1, acks); // and the peer's first SETTINGS
        await test.ExpectServedAsync(1);
        Assert.False(test.Connection.Connection.IsClosed);
    }

    [Fact]
    public async Task Options_MaxQueuedControlFrames_DefaultsToAThousand_AndMustBePositive_EveryProblemNamed()
    {
        Assert.Equal(1000, new Http2ConnectionOptions().MaxQueuedControlFrames);
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        using var _ = theirs;
        var pipe = new SocketPipe(ours);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new Http2Connection(pipe, isServer: false,
            new Http2ConnectionOptions { MaxQueuedControlFrames = 0, SettingsTimeout = TimeSpan.Zero }));

        Assert.Contains("MaxQueuedControlFrames is 0: give at least 1", error.Message);
        Assert.Contains("SettingsTimeout is 00:00:00", error.Message);
        await pipe.Output.CompleteAsync();
        await pipe.Input.CompleteAsync();
    }
}
