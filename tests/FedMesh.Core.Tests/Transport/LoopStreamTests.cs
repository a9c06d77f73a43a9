using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Tests.Transport;

/// <summary>
/// The data plane's socket stream on its own epoll loop (<see cref="LoopStream"/>): reads and writes that wait for the
/// loop, the ends of a connection (the peer's FIN, a shutdown, disposal), cancellation, connecting, and many streams at
/// once (slots reused).
/// </summary>
public sealed class LoopStreamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Read_WaitsForTheBytes_AndAfterAShortReadWaitsForTheNext()
    {
        var (stream, peer) = await PairAsync();
        using var _ = peer;
        await using var __ = stream;
        var buffer = new byte[16];

        var first = stream.ReadAsync(buffer).AsTask();
        Assert.False(first.IsCompleted, "nothing was sent yet");
        await peer.SendAsync("abc"u8.ToArray());
        Assert.Equal(3, await first.WaitAsync(Patience));
        Assert.Equal("abc"u8.ToArray(), buffer[..3]);

        // The short read drained the socket: the next read waits (no event yet), and the next bytes complete it.
        var second = stream.ReadAsync(buffer).AsTask();
        await Task.Delay(50);
        Assert.False(second.IsCompleted);
        await peer.SendAsync("defg"u8.ToArray());
        Assert.Equal(4, await second.WaitAsync(Patience));
        Assert.Equal("defg"u8.ToArray(), buffer[..4]);
    }

    [Fact]
    public async Task ZeroByteRead_WaitsForData_WithoutTakingIt()
    {
        var (stream, peer) = await PairAsync();
        using var _ = peer;
        await using var __ = stream;
        await peer.SendAsync("x"u8.ToArray());
        var buffer = new byte[8];
        Assert.Equal(1, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));

        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted, "a zero-byte read waits while nothing has come");
        await peer.SendAsync("yz"u8.ToArray());
        Assert.Equal(0, await waiting.WaitAsync(Patience));

        Assert.Equal(2, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience)); // the bytes are still there
        Assert.Equal("yz"u8.ToArray(), buffer[..2]);
    }

    [Fact]
    public async Task PeerSendingAndClosingAtOnce_TheDataThenTheEnd()
    {
        var (stream, peer) = await PairAsync();
        await using var _ = stream;
        var buffer = new byte[16];
        var reading = stream.ReadAsync(buffer).AsTask();

        // Data and FIN in one event: the short read must not be taken as "drained", or the end is never seen.
        await peer.SendAsync("bye"u8.ToArray());
        peer.Shutdown(SocketShutdown.Send);
        Assert.Equal(3, await reading.WaitAsync(Patience));
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
        Assert.Equal(0, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
        peer.Dispose();
    }

    [Fact]
    public async Task LargeTransfers_BothWays_ArriveWhole_ThroughFullSocketBuffers()
    {
        var (stream, peer) = await PairAsync();
        using var _ = peer;
        await using var __ = stream;
        var payload = new byte[8 << 20];
        Random.Shared.NextBytes(payload);

        // Written faster than the peer reads: sends fill the socket's buffer and wait for room, on the loop.
        var writing = stream.WriteAsync(payload).AsTask();
        var received = new byte[payload.Length];
        var at = 0;
        while (at < received.Length)
        {
            at += await peer.ReceiveAsync(received.AsMemory(at, Math.Min(64 << 10, received.Length - at)));
            if (at < 1 << 20)
                await Task.Delay(1); // slow at first, so the writer meets a full buffer
        }
        await writing.WaitAsync(Patience);
        Assert.Equal(payload, received);

        var back = peer.SendAsync(payload);
        var read = new byte[payload.Length];
        at = 0;
        while (at < read.Length)
        {
            var n = await stream.ReadAsync(read.AsMemory(at, Math.Min(16 << 10, read.Length - at))).AsTask().WaitAsync(Patience);
            Assert.NotEqual(0, n);
            at += n;
        }
        await back;
        Assert.Equal(payload, read);
    }

    [Fact]
    public async Task Shutdown_EndsAWaitingRead_AndThePeerSeesTheEnd()
    {
        var (stream, peer) = await PairAsync();
        using var _ = peer;
        var loop = Assert.IsType<LoopStream>(stream);
        var reading = stream.ReadAsync(new byte[8]).AsTask();

        loop.Socket.Shutdown(SocketShutdown.Both); // as StreamConnection aborts a connection before disposing its stream

        Assert.Equal(0, await reading.WaitAsync(Patience));
        Assert.Equal(0, await peer.ReceiveAsync(new byte[8]).WaitAsync(Patience));
        await stream.DisposeAsync();
    }

    [Fact]
    public async Task EndReading_EndsAWaitingReadAndLaterOnes_WhileWritesGoOn_AndDisposalSendsTheEnd()
    {
        var (stream, peer) = await PairAsync();
        using var _ = peer;
        var loop = Assert.IsType<LoopStream>(stream);
        var reading = stream.ReadAsync(new byte[8]).AsTask();
        await Task.Delay(50);
        Assert.False(reading.IsCompleted, "nothing was sent yet");

        loop.EndReading(); // as StreamConnection ends its receive loop when it closes a connection itself

        Assert.Equal(0, await reading.WaitAsync(Patience));
        await peer.SendAsync("late"u8.ToArray());
        await Task.Delay(50);
        Assert.Equal(0, await stream.ReadAsync(new byte[8]).AsTask().WaitAsync(Patience)); // ended, whatever comes
        Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(Patience));
        await stream.WriteAsync("still"u8.ToArray());
        var got = new byte[5];
        Assert.Equal(5, await peer.ReceiveAsync(got).WaitAsync(Patience));
        Assert.Equal("still"u8.ToArray(), got);

        await stream.DisposeAsync();
        // The peer's unread bytes make the close a reset; before them, what was written arrived whole.
        var after = await Record.ExceptionAsync(() => peer.ReceiveAsync(new byte[8]).WaitAsync(Patience));
        Assert.True(after is null or SocketException { SocketErrorCode: SocketError.ConnectionReset }, $"the peer saw {after}");
    }

    [Fact]
    public async Task Dispose_FailsAWaitingRead_AndLaterCalls()
    {
        var (stream, peer) = await PairAsync();
        using var _ = peer;
        var reading = stream.ReadAsync(new byte[8]).AsTask();

        await stream.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => reading.WaitAsync(Patience));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.ReadAsync(new byte[8]).AsTask());
        await Assert.ThrowsAsync<ObjectDisposedException>(() => stream.WriteAsync(new byte[8]).AsTask());
    }

    [Fact]
    public async Task CancelledRead_FailsAsCancelled_AndTheStreamReadsOnAfterIt()
    {
        var (stream, peer) = await PairAsync();
        using var _ = peer;
        await using var __ = stream;
        var buffer = new byte[8];
        using var cancel = new CancellationTokenSource();

        var reading = stream.ReadAsync(buffer, cancel.Token).AsTask();
        await Task.Delay(20);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading.WaitAsync(Patience));

        await peer.SendAsync("ok"u8.ToArray());
        Assert.Equal(2, await stream.ReadAsync(buffer).AsTask().WaitAsync(Patience));
    }

    [Fact]
    public async Task Connect_ToNothingListening_IsRefused()
    {
        using var unused = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        unused.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // bound, never listening: connecting to it is refused
        var address = (IPEndPoint)unused.LocalEndPoint!;

        var e = await Assert.ThrowsAsync<SocketException>(() => LoopStream.ConnectAsync(address, CancellationToken.None).AsTask());

        Assert.Equal(SocketError.ConnectionRefused, e.SocketErrorCode);
        Assert.Contains(address.ToString(), e.Message);
    }

    [Fact]
    public async Task Connect_ByName_TriesTheNamesAddressesInTurn()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0)); // IPv4 only: where localhost is ::1 first, that one is refused
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        await using var stream = await LoopStream.ConnectAsync("localhost", port, CancellationToken.None).AsTask().WaitAsync(Patience);
        using var peer = await listener.AcceptAsync();
        await stream.WriteAsync("hi"u8.ToArray());
        var received = new byte[2];
        Assert.Equal(2, await peer.ReceiveAsync(received).WaitAsync(Patience));
        Assert.Equal("hi"u8.ToArray(), received);
    }

    [Fact]
    public async Task ManyConnections_OpenedAndClosedInTurn_EachEchoesItsOwnBytes()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(512);
        var serving = Task.Run(async () =>
        {
            for (var i = 0; i < 600; i++)
            {
                var accepted = await listener.AcceptAsync();
                _ = Task.Run(async () =>
                {
                    using var peer = accepted;
                    var buffer = new byte[64];
                    int n;
                    while ((n = await peer.ReceiveAsync(buffer)) > 0)
                        await peer.SendAsync(buffer.AsMemory(0, n));
                });
            }
        });

        // Three waves of 200: the later waves reuse the loop's slots of the earlier ones.
        for (var wave = 0; wave < 3; wave++)
        {
            await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
            {
                await using var stream = await LoopStream.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, CancellationToken.None);
                var message = System.Text.Encoding.ASCII.GetBytes($"wave {wave} connection {i}");
                await stream.WriteAsync(message);
                var echoed = new byte[message.Length];
                await stream.ReadExactlyAsync(echoed).AsTask().WaitAsync(Patience);
                Assert.Equal(message, echoed);
            }));
        }
        await serving.WaitAsync(Patience);
    }

    [Fact]
    public async Task EpollEvent_AsThisArchitectureLaysItOut_CarriesTheEventMaskAndAll64BitsOfData()
    {
        // The loop's reading of struct epoll_event (packed on x86-64, aligned on arm64) against the kernel's own writing.
        Assert.True(Libc.Supported, "the loop's architectures: x86-64 and arm64");
        var epoll = Libc.EpollCreate1(Libc.EpollCloexec);
        Assert.True(epoll >= 0);
        using var epollHandle = new Microsoft.Win32.SafeHandles.SafeFileHandle(epoll, ownsHandle: true);
        var (watched, sender) = await LoopbackPair.OpenAsync();
        using var _ = watched;
        using var __ = sender;
        const ulong Pattern = 0x0123_4567_89AB_CDEF;
        var events = new byte[2 * Libc.EpollEventSize];
        unsafe
        {
            fixed (byte* buffer = events)
            {
                Libc.WriteEvent(buffer, Libc.EpollIn | Libc.EpollEdgeTriggered, Pattern);
                Assert.Equal(0, Libc.EpollCtl(epoll, Libc.EpollCtlAdd, (int)watched.Handle, buffer));
                sender.Send([42]);
                Array.Fill(events, (byte)0xEE);
                Assert.Equal(1, Libc.EpollWait(epoll, buffer, 2, 5_000));
                var mask = Libc.ReadEvent(buffer, out var data);
                Assert.Equal(Pattern, data);
                Assert.Equal(Libc.EpollIn, mask & (Libc.EpollIn | Libc.EpollOut | Libc.EpollErr | Libc.EpollHup));
            }
        }
        Assert.All(events[Libc.EpollEventSize..], b => Assert.Equal(0xEE, b)); // the kernel wrote one event's size, no more
    }

    private static async Task<(Stream Stream, Socket Peer)> PairAsync()
    {
        var (client, peer) = await LoopbackPair.OpenAsync();
        var stream = LoopStream.For(client);
        Assert.IsType<LoopStream>(stream); // Linux on x86-64 (as CI runs) or arm64: the loop
        return (stream, peer);
    }
}
