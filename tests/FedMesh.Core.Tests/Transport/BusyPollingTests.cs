using System.Net.Sockets;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Tests.Transport;

/// <summary>
/// Busy polling (<see cref="BusyPolling"/>): the setting and its errors, a loop's windows and backing off
/// (<see cref="BusyPollWindow"/>, on made-up ticks), which reads count as expected answers, and a real loop that polls.
/// </summary>
[Collection(BusyPollingCollection.Name)]
public sealed class BusyPollingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private const long Window = 100;

    [Theory]
    [InlineData(null, 0)]
    [InlineData("", 0)]
    [InlineData("0", 0)]
    [InlineData("100", 100)]
    [InlineData(" 250 ", 250)]
    [InlineData("1000", 1000)]
    public void TryParse_TakesWholeMicroseconds_UnsetOrZeroIsOff(string? text, int expected)
    {
        Assert.True(BusyPolling.TryParse(text, out var microseconds, out var error));
        Assert.Equal(expected, microseconds);
        Assert.Null(error);
    }

    [Theory]
    [InlineData("1001")]
    [InlineData("-5")]
    [InlineData("abc")]
    [InlineData("100us")]
    [InlineData("1e3")]
    [InlineData("99999999999")]
    public void TryParse_RefusesAnythingElse_NamingTheVariableAndTheValue(string text)
    {
        Assert.False(BusyPolling.TryParse(text, out var microseconds, out var error));
        Assert.Equal(0, microseconds);
        Assert.Equal($"FEDMESH_BUSY_POLL_US '{text}' is not a busy-poll window: give whole microseconds from 0 (off) to 1000, e.g. 100.", error);
    }

    [Fact]
    public void FromEnvironment_SetsTheWindow_OrReportsTheValueAndLeavesPollingOff()
    {
        var before = Environment.GetEnvironmentVariable(BusyPolling.Variable);
        try
        {
            var errors = new List<string>();
            Environment.SetEnvironmentVariable(BusyPolling.Variable, "150");
            BusyPolling.FromEnvironment(errors);
            Assert.Empty(errors);
            Assert.InRange(BusyPolling.Microseconds, 149, 150); // kept in Stopwatch ticks

            Environment.SetEnvironmentVariable(BusyPolling.Variable, "fast");
            BusyPolling.FromEnvironment(errors);
            Assert.Equal(0, BusyPolling.Microseconds);
            Assert.Contains("FEDMESH_BUSY_POLL_US 'fast'", Assert.Single(errors));
            Assert.Throws<ArgumentOutOfRangeException>(() => BusyPolling.Microseconds = 1001);
        }
        finally
        {
            Environment.SetEnvironmentVariable(BusyPolling.Variable, before);
            BusyPolling.Microseconds = 0;
        }
    }

    [Fact]
    public void Window_PollsUntilItEnds_ThenSleeps_AndAnEventWithinItIsAHit()
    {
        var poll = new BusyPollWindow();
        Assert.Equal(0, poll.Expecting(Window, now: 1000));
        Assert.Equal(0, poll.Expecting(Window, now: 1050));
        poll.Came();
        Assert.Equal((1L, 0L), (poll.Hits, poll.Misses));

        // A new window starts at the next wait, and one that ends with nothing is a miss.
        Assert.Equal(0, poll.Expecting(Window, now: 2000));
        Assert.Equal(0, poll.Expecting(Window, now: 2099));
        Assert.Equal(-1, poll.Expecting(Window, now: 2100));
        Assert.Equal((1L, 1L), (poll.Hits, poll.Misses));

        // Events that came while the loop slept are no hit.
        poll.Came();
        Assert.Equal(1L, poll.Hits);
    }

    [Fact]
    public void Window_AfterMisses_SleepsThroughOneTwoFourUpTo64Waits_AndAHitEndsTheBackingOff()
    {
        var poll = new BusyPollWindow();
        long now = 0;
        foreach (var expected in new[] { 1, 2, 4, 8, 16, 32, 64, 64 })
        {
            Assert.Equal(0, poll.Expecting(Window, now));
            now += Window;
            Assert.Equal(-1, poll.Expecting(Window, now)); // the window ended: a miss
            for (var i = 0; i < expected; i++)
                Assert.Equal(-1, poll.Expecting(Window, now += 10)); // slept through, without polling
        }
        Assert.Equal(8L, poll.Misses);

        Assert.Equal(0, poll.Expecting(Window, now));
        poll.Came();
        Assert.Equal(0, poll.Expecting(Window, now += 10)); // polls at once again
        now += Window;
        Assert.Equal(-1, poll.Expecting(Window, now));
        Assert.Equal(-1, poll.Expecting(Window, now += 10)); // one wait skipped after this miss, not 64
        Assert.Equal(0, poll.Expecting(Window, now += 10));
    }

    [Fact]
    public void Window_IdleEndsAWindowWithoutCountingIt()
    {
        var poll = new BusyPollWindow();
        Assert.Equal(0, poll.Expecting(Window, now: 0));
        Assert.Equal(-1, poll.Idle()); // the answer is no longer expected (its read was cancelled)
        poll.Came();
        Assert.Equal((0L, 0L), (poll.Hits, poll.Misses));
        Assert.Equal(0, poll.Expecting(Window, now: 500)); // and the next expected answer polls afresh
    }

    [Fact]
    public async Task ExpectedAnswers_AreTheWaitingReadsOfConnectionsThisProcessOpened()
    {
        var (opened, server) = await LoopbackPair.OpenUpstreamAsync();
        using var _s = server;
        await using var _ = opened;
        var (accepted, peer) = await LoopbackPair.OpenAsync();
        using var __ = peer;
        await using var acceptedStream = (LoopStream)LoopStream.For(accepted);
        var loop = opened.Loop;
        var before = loop.Expected; // other tests' streams may share the loop: count changes, not totals
        var buffer = new byte[8];

        // While polling is off nothing is counted (no cost on the read's way).
        var uncounted = opened.ReadAsync(buffer).AsTask();
        Assert.Equal(before, loop.Expected);
        await server.SendAsync("-"u8.ToArray());
        Assert.Equal(1, await uncounted.WaitAsync(Patience));
        BusyPolling.Microseconds = 100;
        try
        {
            // A read of an accepted connection (a caller's next request) is no expected answer.
            var callerLoopBefore = acceptedStream.Loop.Expected;
            var callerRead = acceptedStream.ReadAsync(buffer).AsTask();
            Assert.Equal(callerLoopBefore, acceptedStream.Loop.Expected);

            // One of an opened connection is, until its answer comes.
            var read = opened.ReadAsync(buffer).AsTask();
            Assert.Equal(before + 1, loop.Expected);
            await server.SendAsync("ok"u8.ToArray());
            Assert.Equal(2, await read.WaitAsync(Patience));
            Assert.Equal(before, loop.Expected);

            // A zero-byte read (what SslStream waits with) too; and a cancelled read stops counting.
            var zero = opened.ReadAsync(Memory<byte>.Empty).AsTask();
            Assert.Equal(before + 1, loop.Expected);
            await server.SendAsync("x"u8.ToArray());
            Assert.Equal(0, await zero.WaitAsync(Patience));
            Assert.Equal(before, loop.Expected);
            Assert.Equal(1, await opened.ReadAsync(buffer).AsTask().WaitAsync(Patience));
            using (var cancel = new CancellationTokenSource())
            {
                var cancelled = opened.ReadAsync(buffer, cancel.Token).AsTask();
                Assert.Equal(before + 1, loop.Expected);
                cancel.Cancel();
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(Patience));
                Assert.Equal(before, loop.Expected);
            }

            // And one that waits when the stream is disposed.
            var disposed = opened.ReadAsync(buffer).AsTask();
            Assert.Equal(before + 1, loop.Expected);
            await opened.DisposeAsync();
            await Assert.ThrowsAsync<ObjectDisposedException>(() => disposed.WaitAsync(Patience));
            Assert.Equal(before, loop.Expected);

            await peer.SendAsync("y"u8.ToArray());
            Assert.Equal(1, await callerRead.WaitAsync(Patience));
        }
        finally
        {
            BusyPolling.Microseconds = 0;
        }
    }

    [Fact]
    public async Task ALoopExpectingAnAnswer_PollsForIt_AndCountsTheHit()
    {
        var (opened, server) = await LoopbackPair.OpenUpstreamAsync();
        using var _s = server;
        await using var _o = opened;
        var (accepted, peer) = await LoopbackPair.OpenAsync();
        using var _ = peer;
        await using var nudged = (LoopStream)LoopStream.For(accepted);
        var buffer = new byte[8];
        var (hitsBefore, _) = BusyPolling.Counts();
        BusyPolling.Microseconds = BusyPolling.MaxMicroseconds;
        try
        {
            // The loop polls only once it comes back from an event while an answer is expected: the answer's read
            // waits, an event on another stream wakes the loop, and the answer is sent as soon as that event is
            // handled. A busy machine may let the window pass first (a miss), so a few tries.
            for (var attempt = 0; attempt < 50 && BusyPolling.Counts().Hits == hitsBefore; attempt++)
            {
                var answer = opened.ReadAsync(buffer).AsTask();
                var nudge = nudged.ReadAsync(buffer.AsMemory(4)).AsTask();
                await peer.SendAsync("n"u8.ToArray());
                await nudge.WaitAsync(Patience);
                await server.SendAsync("a"u8.ToArray());
                Assert.Equal(1, await answer.WaitAsync(Patience));
            }
            Assert.True(BusyPolling.Counts().Hits > hitsBefore, "no busy-poll window caught an answer in 50 tries");
        }
        finally
        {
            BusyPolling.Microseconds = 0;
        }
    }
}

/// <summary>Tests that set the process-wide busy-poll window run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BusyPollingCollection
{
    public const string Name = "busy polling";
}
