using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Forwarding;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>The socket stream under the direct path's TLS: a zero-byte read does not wait, a real read does.</summary>
public sealed class ReadNowNetworkStreamTests
{
    [Fact]
    public async Task ZeroByteRead_NoDataYet_CompletesAtOnceWithZero()
    {
        var (stream, peer) = await ConnectedPairAsync();
        using var _ = peer;
        await using var __ = stream;

        var read = stream.ReadAsync(Memory<byte>.Empty);

        Assert.True(read.IsCompletedSuccessfully, "a zero-byte read must not wait for data");
        Assert.Equal(0, await read);
    }

    [Fact]
    public async Task Read_WaitsForTheBytes_AndReturnsThem()
    {
        var (stream, peer) = await ConnectedPairAsync();
        using var _ = peer;
        await using var __ = stream;
        var buffer = new byte[16];

        var read = stream.ReadAsync(buffer).AsTask();
        Assert.False(read.IsCompleted, "nothing was sent yet");
        await peer.SendAsync("abc"u8.ToArray());

        Assert.Equal(3, await read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("abc"u8.ToArray(), buffer[..3]);
    }

    private static async Task<(ReadNowNetworkStream Stream, Socket Peer)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var peer = await listener.AcceptAsync();
        return (new ReadNowNetworkStream(client), peer);
    }
}
