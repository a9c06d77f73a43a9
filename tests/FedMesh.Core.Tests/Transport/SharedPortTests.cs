using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Tests.Transport;

/// <summary>How a shared port takes connections: the kernel asked to defer them, and the loop's accepting.</summary>
public sealed class SharedPortTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void ListenSocket_AsksTheKernelToDeferAcceptingUntilTheClientSpeaks()
    {
        if (!OperatingSystem.IsLinux())
            return; // TCP_DEFER_ACCEPT is Linux's; elsewhere the port does not ask for it
        using var listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var before = new byte[4];
        listen.GetRawSocketOption(Libc.IpProtoTcp, Libc.TcpDeferAccept, before);

        SharedPort.DeferAccept(listen);

        var after = new byte[4];
        listen.GetRawSocketOption(Libc.IpProtoTcp, Libc.TcpDeferAccept, after);
        Assert.Equal(0, BitConverter.ToInt32(before));
        Assert.True(BitConverter.ToInt32(after) >= SharedPort.DeferAcceptSeconds); // the kernel rounds up to its retransmissions
    }

    [Fact]
    public async Task ListeningSocket_TryAcceptTakesEachWaitingConnection_AndAZeroByteReadWaitsForTheNext()
    {
        var listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listen.Listen(8);
        await using var stream = (LoopStream)LoopStream.For(listen);
        Assert.Null(stream.TryAccept());
        var waiting = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        await Task.Delay(50);
        Assert.False(waiting.IsCompleted, "no connection yet");

        using var first = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var second = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await first.ConnectAsync(listen.LocalEndPoint!);
        await second.ConnectAsync(listen.LocalEndPoint!);
        await first.SendAsync("a"u8.ToArray()); // the first bytes: the port's connections are handed over with them
        await second.SendAsync("b"u8.ToArray());
        await waiting.WaitAsync(Patience);
        var accepted = new List<Socket>();
        var deadline = DateTime.UtcNow + Patience;
        var signalled = true; // as the port's accept loop: straight to accept after the loop's event, else poll first
        while (accepted.Count < 2 && DateTime.UtcNow < deadline)
        {
            if (stream.TryAccept(signalled) is { } socket)
            {
                accepted.Add(socket);
                signalled = false;
            }
            else
            {
                await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(Patience);
                signalled = true;
            }
        }

        Assert.Equal(2, accepted.Count);
        Assert.Equal(new[] { first.LocalEndPoint, second.LocalEndPoint }.Order(new ByPort()), accepted.Select(a => a.RemoteEndPoint).Order(new ByPort()));
        Assert.Null(stream.TryAccept(signalled: true)); // signalled, yet none waits (taken meanwhile): refused, not thrown
        Assert.Null(stream.TryAccept());
        var next = stream.ReadAsync(Memory<byte>.Empty).AsTask();
        await Task.Delay(50);
        Assert.False(next.IsCompleted, "both were taken: it waits for a third");
        foreach (var socket in accepted)
            socket.Dispose();
    }

    private sealed class ByPort : IComparer<EndPoint?>
    {
        public int Compare(EndPoint? x, EndPoint? y) => ((IPEndPoint)x!).Port.CompareTo(((IPEndPoint)y!).Port);
    }
}
