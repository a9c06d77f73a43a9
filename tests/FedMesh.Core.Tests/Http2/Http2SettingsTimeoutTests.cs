using System.Buffers;
using System.Text;
using FedMesh.Core.Http2;
using FedMesh.Core.Tests.Identity;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The wait for the peer's acknowledgement of our SETTINGS (RFC 9113 §6.5.3): a peer that does not acknowledge within
/// <see cref="Http2ConnectionOptions.SettingsTimeout"/> gets GOAWAY SETTINGS_TIMEOUT and the connection ends; one that
/// does has the timer disarmed. On a manual clock, and once on the real one with a short timeout.
/// </summary>
public sealed class Http2SettingsTimeoutTests
{
    [Fact]
    public async Task PeerNeverAcknowledges_AtTheTimeout_GoAwaySettingsTimeout_AndTheConnectionEnds()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var log = new StreamLog();
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        await using var connection = RunningConnection.Server(ours, _ => log, new Http2ConnectionOptions { SettingsTimeout = TimeSpan.FromSeconds(5), TimeProvider = clock });
        await using var peer = new Http2RawPeer(theirs);
        await StartWithoutAckAsync(peer);
        await peer.RequestAsync(1, "/open", endStream: false);
        await Eventually.TrueAsync(() => log.Stream is not null, "the stream taken");
        Assert.Equal(1, clock.PendingTimers);

        clock.Advance(TimeSpan.FromSeconds(4.9));
        await PingAnsweredAsync(peer); // not yet
        clock.Advance(TimeSpan.FromSeconds(0.1));

        var goAway = await peer.ReadGoAwayAndEndAsync();
        Assert.Equal((Http2ErrorCode.SettingsTimeout, 1), (goAway.ErrorCode, goAway.LastStreamId));
        Assert.Contains("did not acknowledge our SETTINGS within 5 s", Encoding.UTF8.GetString(goAway.DebugData));
        await connection.EndedAsync();
        Assert.True(connection.Connection.IsClosed);
        Assert.Equal((1, Http2ErrorCode.Cancel), (log.Resets, log.ResetCode));
        Assert.Equal(Http2ErrorCode.SettingsTimeout, Assert.IsType<Http2ConnectionException>(log.ResetError).ErrorCode);
    }

    [Fact]
    public async Task PeerAcknowledges_TheTimerIsDisarmed_AndTheConnectionOutlivesTheTimeout()
    {
        var clock = new ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new Http2ConnectionOptions { SettingsTimeout = TimeSpan.FromSeconds(5), TimeProvider = clock };
        await using var test = await RawSession.ServeAsync(options); // the raw client acknowledges our SETTINGS

        await Eventually.TrueAsync(() => clock.PendingTimers == 0, "the timer disarmed by the ACK");
        clock.Advance(TimeSpan.FromMinutes(1));

        await test.ExpectServedAsync(1);
        Assert.False(test.Connection.Connection.IsClosed);
    }

    [Fact]
    public async Task OurClient_PeerNeverAcknowledges_RealClock_GoAwaySettingsTimeout()
    {
        var (ours, theirs) = await Kit.LoopbackPairAsync();
        await using var connection = RunningConnection.Client(ours, new Http2ConnectionOptions { SettingsTimeout = TimeSpan.FromMilliseconds(200) });
        await using var peer = new Http2RawPeer(theirs);
        Assert.Equal(Http2Frames.ConnectionPreface.ToArray(), await peer.ReadAsync(Http2Frames.ConnectionPreface.Length));
        await peer.WriteAsync(w => Http2FrameWriter.WriteSettings(w, []));

        var goAway = await peer.ReadGoAwayAndEndAsync(); // each read bounded by the kit's deadline
        Assert.Equal(Http2ErrorCode.SettingsTimeout, goAway.ErrorCode);
        await connection.EndedAsync();
        Assert.False(connection.Connection.TryOpenStream(new StreamLog(), out _));
    }

    [Fact]
    public void Options_SettingsTimeout_DefaultsToTenSeconds_AndMustBePositiveOrInfinite()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), new Http2ConnectionOptions().SettingsTimeout);
        var pipe = new System.IO.Pipelines.Pipe();
        var transport = new Transport(pipe.Reader, pipe.Writer);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new Http2Connection(transport, isServer: false, new Http2ConnectionOptions { SettingsTimeout = TimeSpan.Zero }));

        Assert.Contains("SettingsTimeout is 00:00:00", error.Message);
        _ = new Http2Connection(transport, isServer: false, new Http2ConnectionOptions { SettingsTimeout = Timeout.InfiniteTimeSpan });
    }

    /// <summary>Our server's peer as a client that sends its preface and SETTINGS, and reads ours without acknowledging them.</summary>
    private static async Task StartWithoutAckAsync(Http2RawPeer peer)
    {
        await peer.WriteAsync(w => { w.Write(Http2Frames.ConnectionPreface); Http2FrameWriter.WriteSettings(w, []); });
        var settings = await peer.ReadFrameAsync();
        Assert.Equal((Http2FrameType.Settings, false), (settings.Header.Type, settings.Header.Has(Http2Flags.Ack)));
    }

    private static async Task PingAnsweredAsync(Http2RawPeer peer)
    {
        await peer.WriteAsync(w => Http2FrameWriter.WritePing(w, 7));
        var skipped = new List<PeerFrame>();
        var pong = await peer.ReadUntilAsync(Http2FrameType.Ping, skipped);
        Assert.True(pong.Header.Has(Http2Flags.Ack));
        Assert.DoesNotContain(skipped, f => f.Header.Type == Http2FrameType.GoAway);
    }

    private sealed class Transport(System.IO.Pipelines.PipeReader input, System.IO.Pipelines.PipeWriter output) : System.IO.Pipelines.IDuplexPipe
    {
        public System.IO.Pipelines.PipeReader Input { get; } = input;

        public System.IO.Pipelines.PipeWriter Output { get; } = output;
    }
}
