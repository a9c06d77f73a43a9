using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Tests.Forwarding.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>
/// The pool's waiting queue against a TLS upstream whose handshakes a <see cref="HandshakeGate"/> holds back: who gets
/// a connection that comes free or is opened, how many are opened at once, and how waiting ends when none comes.
/// </summary>
public sealed class Http11PoolTests
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(2);

    private static readonly SslClientAuthenticationOptions Tls = new()
    {
        TargetHost = "upstream.test",
        ApplicationProtocols = [SslApplicationProtocol.Http11],
        RemoteCertificateValidationCallback = (_, _, _, _) => true,
    };

    [Theory]
    [InlineData(1)] // a sidecar with one processor: one handshake at a time
    [InlineData(8)]
    public async Task RentAsync_MoreWaitersThanMaxOpening_ThatManyOpenedAtOnceAndEveryWaiterServed(int maxOpening)
    {
        // Nothing is returned, as when every request is a long poll or a stream: the waiters past the first openings
        // can only be served by more openings.
        var waiting = maxOpening + 4;
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate();
        await using var upstream = ScriptedUpstream.Answering(_ => "", certificate, gate.HoldAsync);
        // Each waiter's own deadline covers the openings before its own, one at a time with one processor: the test's
        // deadline, not the pool's usual 2 s, which a loaded test machine's handshakes in a row could pass.
        using var pool = PoolFor(upstream, connectTimeout: ScriptedUpstream.Deadline, maxOpening: maxOpening);

        var rents = Enumerable.Range(0, waiting).Select(_ => pool.RentAsync(verify: false, CancellationToken.None).AsTask()).ToArray();
        await Eventually.TrueAsync(() => gate.Holding == maxOpening, $"{maxOpening} openings held by the upstream", ScriptedUpstream.Deadline);
        await Task.Delay(100); // no more openings start while those are under way
        Assert.Equal(maxOpening, gate.Holding);
        var waitedWhileHeld = rents.Count(r => !r.IsCompleted);
        gate.Open();
        var connections = await Task.WhenAll(rents).WaitAsync(ScriptedUpstream.Deadline);

        Assert.Equal(waiting, waitedWhileHeld);
        Assert.Equal(waiting, connections.Distinct().Count());
        Assert.Equal(waiting, pool.Count);
        Assert.Equal(waiting, upstream.Accepted);
        Assert.Equal(maxOpening, gate.Peak);
    }

    [Fact]
    public void DefaultMaxOpening_IsOnePerProcessorUpToEight()
    {
        Assert.Equal(Math.Min(Environment.ProcessorCount, 8), Http11Pool.DefaultMaxOpening);
        Assert.Throws<ArgumentOutOfRangeException>(() => new Http11Pool("127.0.0.1", 1, null, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1), maxOpening: 0));
    }

    [Fact]
    public async Task Return_WhileRequestsWait_EachWaiterInTurnTakesTheReturnedConnection()
    {
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate(free: 1); // the second connection and later never open
        await using var upstream = ScriptedUpstream.Answering(_ => "", certificate, gate.HoldAsync);
        using var pool = PoolFor(upstream);
        var first = await pool.RentAsync(verify: false, CancellationToken.None).AsTask().WaitAsync(ScriptedUpstream.Deadline);

        var waiters = Enumerable.Range(0, 4).Select(_ => pool.RentAsync(verify: false, CancellationToken.None).AsTask()).ToArray();
        await Eventually.TrueAsync(() => gate.Holding == waiters.Length, "an opening per waiter", ScriptedUpstream.Deadline);
        for (var i = 0; i < waiters.Length; i++)
        {
            Assert.All(waiters[i..], w => Assert.False(w.IsCompleted));
            pool.Return(first, reusable: true);
            Assert.Same(first, await waiters[i].WaitAsync(ScriptedUpstream.Deadline));
            Assert.True(first.Reused);
        }
        pool.Return(first, reusable: true);

        Assert.Equal(1, gate.Released);
        Assert.Equal((1, 1), (pool.Count, pool.IdleCount));
    }

    [Fact]
    public async Task RentAsync_UpstreamRefuses_EveryWaiterFailsPromptlyWithSocketException()
    {
        var waiting = 3 * Http11Pool.DefaultMaxOpening;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        using var pool = new Http11Pool("127.0.0.1", port, null, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1));
        var started = Stopwatch.GetTimestamp();

        var rents = Enumerable.Range(0, waiting).Select(_ => pool.RentAsync(verify: false, CancellationToken.None).AsTask()).ToArray();
        await Task.WhenAny(Task.WhenAll(rents), Task.Delay(ScriptedUpstream.Deadline));
        var elapsed = Stopwatch.GetElapsedTime(started);

        Assert.All(rents, r => Assert.Equal(SocketError.ConnectionRefused, Assert.IsType<SocketException>(r.Exception?.InnerException).SocketErrorCode));
        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2)); // not the ten-second connect timeout
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public async Task RentAsync_HandshakeNeverAnswered_TimeoutExceptionWithinTheConnectTimeout()
    {
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate(); // accepts TCP, never answers the handshake
        await using var upstream = ScriptedUpstream.Answering(_ => "", certificate, gate.HoldAsync);
        var connectTimeout = TimeSpan.FromMilliseconds(500);
        using var pool = PoolFor(upstream, connectTimeout);
        var started = Stopwatch.GetTimestamp();

        var rents = Enumerable.Range(0, 3).Select(_ => pool.RentAsync(verify: false, CancellationToken.None).AsTask()).ToArray();
        await Task.WhenAny(Task.WhenAll(rents), Task.Delay(ScriptedUpstream.Deadline));
        var elapsed = Stopwatch.GetElapsedTime(started);

        Assert.All(rents, r => Assert.IsType<TimeoutException>(r.Exception?.InnerException));
        Assert.InRange(elapsed, connectTimeout - TimeSpan.FromMilliseconds(50), connectTimeout + TimeSpan.FromSeconds(1.5));
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public async Task RentAsync_WaiterCancelled_OperationCanceledAndTheReturnedConnectionNotLost()
    {
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate(free: 1);
        await using var upstream = ScriptedUpstream.Answering(_ => "", certificate, gate.HoldAsync);
        using var pool = PoolFor(upstream, TimeSpan.FromSeconds(5));
        var first = await pool.RentAsync(verify: false, CancellationToken.None).AsTask().WaitAsync(ScriptedUpstream.Deadline);
        using var leaves = new CancellationTokenSource();
        using var leavesToo = new CancellationTokenSource();

        var leaving = pool.RentAsync(verify: false, leaves.Token).AsTask();
        var staying = pool.RentAsync(verify: false, CancellationToken.None).AsTask();
        await Eventually.TrueAsync(() => gate.Holding == 2, "an opening per waiter", ScriptedUpstream.Deadline);
        leaves.Cancel();
        var cancelled = await Record.ExceptionAsync(() => leaving.WaitAsync(ScriptedUpstream.Deadline));
        pool.Return(first, reusable: true);
        var served = await staying.WaitAsync(ScriptedUpstream.Deadline);
        // The only waiter left goes: the connection, returned again, waits idle for the next request.
        var leavingToo = pool.RentAsync(verify: false, leavesToo.Token).AsTask();
        leavesToo.Cancel();
        var cancelledToo = await Record.ExceptionAsync(() => leavingToo.WaitAsync(ScriptedUpstream.Deadline));
        pool.Return(first, reusable: true);
        var (count, idle) = (pool.Count, pool.IdleCount);
        var rent = pool.RentAsync(verify: false, CancellationToken.None);
        var nextAtOnce = rent.IsCompletedSuccessfully;
        var next = await rent;
        pool.Return(next, reusable: true);
        // The openings started for the waiters that left complete later, into the idle stack.
        gate.Open();
        await Eventually.TrueAsync(() => pool.Count == 3, "the two held openings completed", ScriptedUpstream.Deadline);

        Assert.IsAssignableFrom<OperationCanceledException>(cancelled);
        Assert.IsAssignableFrom<OperationCanceledException>(cancelledToo);
        Assert.Same(first, served);
        Assert.Equal((1, 1), (count, idle));
        Assert.True(nextAtOnce);
        Assert.Same(first, next);
        Assert.Equal(3, pool.IdleCount);
        Assert.Equal(3, upstream.Accepted); // the second waiter to leave found an opening under way for it
    }

    [Fact]
    public async Task RentAsync_AfterWaitersLeft_TheirOpeningsServeTheNextWaiterWithoutAnotherOpening()
    {
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate();
        await using var upstream = ScriptedUpstream.Answering(_ => "", certificate, gate.HoldAsync);
        using var pool = PoolFor(upstream, TimeSpan.FromSeconds(5));
        using var leave = new CancellationTokenSource();

        var leaving = Enumerable.Range(0, 2).Select(_ => pool.RentAsync(verify: false, leave.Token).AsTask()).ToArray();
        await Eventually.TrueAsync(() => gate.Holding == 2, "an opening per waiter", ScriptedUpstream.Deadline);
        leave.Cancel();
        await Task.WhenAll(leaving.Select(r => Record.ExceptionAsync(() => r.WaitAsync(ScriptedUpstream.Deadline))));
        // Two openings are under way and one request waits: the queue still holds the two that left, but they do not count.
        var staying = pool.RentAsync(verify: false, CancellationToken.None).AsTask();
        await Task.Delay(200);
        var holdingWhileWaiting = gate.Holding;
        gate.Open();
        var served = await staying.WaitAsync(ScriptedUpstream.Deadline);
        await Eventually.TrueAsync(() => pool.Count == 2, "both openings completed", ScriptedUpstream.Deadline);

        Assert.All(leaving, r => Assert.True(r.IsCanceled));
        Assert.Equal(2, holdingWhileWaiting);
        Assert.NotNull(served);
        Assert.Equal(2, upstream.Accepted);
    }

    [Fact]
    public async Task Dispose_WhileRequestsWait_WaitersFailAndLaterConnectionsClosed()
    {
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate(free: 1);
        await using var upstream = ScriptedUpstream.Answering(_ => "", certificate, gate.HoldAsync);
        var pool = PoolFor(upstream, TimeSpan.FromSeconds(5));
        var first = await pool.RentAsync(verify: false, CancellationToken.None).AsTask().WaitAsync(ScriptedUpstream.Deadline);
        var waiters = Enumerable.Range(0, 3).Select(_ => pool.RentAsync(verify: false, CancellationToken.None).AsTask()).ToArray();
        await Eventually.TrueAsync(() => gate.Holding == waiters.Length, "an opening per waiter", ScriptedUpstream.Deadline);

        pool.Dispose();
        await Task.WhenAny(Task.WhenAll(waiters), Task.Delay(ScriptedUpstream.Deadline));
        pool.Return(first, reusable: true);
        var closedFirst = await upstream.NextClosedByPeerAsync();
        var afterDispose = await Record.ExceptionAsync(async () => await pool.RentAsync(verify: false, CancellationToken.None));
        // The openings under way complete after the dispose: each connection is closed at once.
        gate.Open();
        var closedLater = new[] { await upstream.NextClosedByPeerAsync(), await upstream.NextClosedByPeerAsync(), await upstream.NextClosedByPeerAsync() };

        Assert.All(waiters, w => Assert.IsType<ObjectDisposedException>(w.Exception?.InnerException));
        Assert.Equal(1, closedFirst.Number);
        Assert.IsType<ObjectDisposedException>(afterDispose);
        Assert.Equal([2, 3, 4], closedLater.Select(c => c.Number).Order());
        Assert.Equal(0, pool.Count);
    }

    [Fact]
    public async Task Sweep_SaysWhenItIsNextNeeded_AndARentSetsTheClientsSweepsGoing()
    {
        // Rented, or given back within the last second: every period; idle longer: at the connection's expiry; empty: never.
        using var certificate = TestCertificate.SelfSigned();
        await using var upstream = ScriptedUpstream.Answering(_ => "", certificate);
        var time = new Identity.ManualTimeProvider(DateTimeOffset.UnixEpoch);
        var idleTimeout = TimeSpan.FromMinutes(1);
        using var sweeps = new SweepTimer(time, () => null);
        using var pool = new Http11Pool("127.0.0.1", upstream.Port, Tls, ConnectTimeout, idleTimeout, sweeps);
        var empty = pool.Sweep();
        var idleBefore = sweeps.Ticking;

        var connection = await pool.RentAsync(verify: false, CancellationToken.None).AsTask().WaitAsync(ScriptedUpstream.Deadline);
        var rentedTicking = sweeps.Ticking;
        var rented = pool.Sweep();
        pool.Return(connection, reusable: true);
        var justReturned = pool.Sweep();
        await Task.Delay(TimeSpan.FromMilliseconds(1100)); // quiet for a second
        var idle = pool.Sweep();
        time.Advance(SweepTimer.Period); // the timer's own sweep (here: nothing) stops it
        var afterTick = sweeps.Ticking;
        var again = await pool.RentAsync(verify: false, CancellationToken.None).AsTask().WaitAsync(ScriptedUpstream.Deadline);
        var reusedTicking = sweeps.Ticking;
        pool.Return(again, reusable: false);
        var closed = pool.Sweep();

        Assert.Null(empty);
        Assert.False(idleBefore);
        Assert.True(rentedTicking);
        Assert.Equal(TimeSpan.Zero, rented);
        Assert.Equal(TimeSpan.Zero, justReturned);
        Assert.InRange(idle!.Value, idleTimeout - TimeSpan.FromSeconds(5), idleTimeout - TimeSpan.FromSeconds(1));
        Assert.False(afterTick);
        Assert.True(reusedTicking);
        Assert.Null(closed);
    }

    // Eight openings at once unless a test asks otherwise (the default follows this machine's processors).
    private static Http11Pool PoolFor(ScriptedUpstream upstream, TimeSpan? connectTimeout = null, int maxOpening = 8) =>
        new("127.0.0.1", upstream.Port, Tls, connectTimeout ?? ConnectTimeout, TimeSpan.FromMinutes(1), maxOpening: maxOpening);
}
