using System.Net;
using System.Net.Sockets;

namespace FedMesh.Core.Tests.Transport;

/// <summary>Two connected TCP sockets on loopback, for the transport's tests.</summary>
internal static class LoopbackPair
{
    /// <summary>
    /// A socket connected to a fresh listener, and the socket the listener accepted. The connecting side connects
    /// synchronously, so neither is registered with .NET's socket engine yet: either may go on FedMesh's loop.
    /// </summary>
    public static async Task<(Socket Connected, Socket Accepted)> OpenAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connected = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        connected.Connect(listener.LocalEndPoint!);
        return (connected, await listener.AcceptAsync());
    }

    /// <summary>
    /// A stream this process opened (<see cref="FedMesh.Core.Transport.LoopStream.ConnectAsync(IPEndPoint, CancellationToken)"/>,
    /// as the pooled upstream connections are), and the socket a fresh listener accepted for it.
    /// </summary>
    public static async Task<(FedMesh.Core.Transport.LoopStream Opened, Socket Accepted)> OpenUpstreamAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var accepting = listener.AcceptAsync();
        var opened = (FedMesh.Core.Transport.LoopStream)await FedMesh.Core.Transport.LoopStream.ConnectAsync((IPEndPoint)listener.LocalEndPoint!, CancellationToken.None);
        return (opened, await accepting);
    }
}
