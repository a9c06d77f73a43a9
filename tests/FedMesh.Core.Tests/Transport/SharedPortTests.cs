using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Tests.Transport;

public sealed class SharedPortTests
{
    [Fact]
    public void ListenSocket_AsksTheKernelToDeferAcceptingUntilTheClientSpeaks()
    {
        if (!OperatingSystem.IsLinux())
            return; // TCP_DEFER_ACCEPT is Linux's; elsewhere the port does not ask for it
        using var listen = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listen.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var before = new byte[4];
        listen.GetRawSocketOption(SharedPort.IpProtoTcp, SharedPort.TcpDeferAccept, before);

        SharedPort.DeferAccept(listen);

        var after = new byte[4];
        listen.GetRawSocketOption(SharedPort.IpProtoTcp, SharedPort.TcpDeferAccept, after);
        Assert.Equal(0, BitConverter.ToInt32(before));
        Assert.True(BitConverter.ToInt32(after) >= SharedPort.DeferAcceptSeconds); // the kernel rounds up to its retransmissions
    }
}
