using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Tests.Transport;

/// <summary>
/// The TCP probe a sidecar runs on its app every second (<see cref="TcpProbe"/>): a local listener's answer taken as the
/// connect returns (no timer, no wait), a refusal, a peer that never answers (a full backlog) given up on at the
/// timeout, and the caller's cancellation.
/// </summary>
public sealed class TcpProbeTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("[::1]")] // as a URI gives an IPv6 host
    public async Task LocalListener_IsReachable_AnsweredAsTheConnectReturns(string host)
    {
        var family = host.StartsWith('[') ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;
        using var listener = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, 0));
        listener.Listen(16);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;

        var probe = TcpProbe.ReachableAsync(host, port, TimeSpan.FromSeconds(5), CancellationToken.None);

        // The kernel ran the loopback handshake within the connect: nothing was left to wait for.
        Assert.True(probe.IsCompleted, "a local listener's answer is in when the connect returns");
        Assert.True(await probe);
    }

    [Fact]
    public async Task NothingListening_IsUnreachable_AtOnce()
    {
        var port = FreePort();

        var probe = TcpProbe.ReachableAsync("127.0.0.1", port, TimeSpan.FromSeconds(5), CancellationToken.None);

        Assert.False(await probe.WaitAsync(Patience));
    }

    [Fact]
    public async Task PeerThatNeverAnswers_IsUnreachable_AfterTheTimeout()
    {
        // A listener whose backlog is full and never accepted from: the kernel drops further SYNs, so a connect to it
        // stays under way (as to a remote host that does not answer).
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var address = (IPEndPoint)listener.LocalEndPoint!;
        var filling = new List<Socket>();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                filling.Add(socket);
                try { socket.Connect(address); } catch (SocketException) { } // under way, or queued
            }
            await Task.Delay(100);

            var timeout = TimeSpan.FromMilliseconds(300);
            var started = Stopwatch.GetTimestamp();
            var reachable = await TcpProbe.ReachableAsync("127.0.0.1", address.Port, timeout, CancellationToken.None).WaitAsync(Patience);

            Assert.False(reachable);
            Assert.True(Stopwatch.GetElapsedTime(started) >= timeout - TimeSpan.FromMilliseconds(50), "given up on only at the timeout");
        }
        finally
        {
            foreach (var socket in filling)
                socket.Dispose();
        }
    }

    [Fact]
    public async Task CallersCancellation_IsThrown_NotTakenForAnAnswer()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => TcpProbe.ReachableAsync("127.0.0.1", FreePort(), TimeSpan.FromSeconds(5), cancelled.Token));
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}
