using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using FedMesh.Core.Transport;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Transport;

/// <summary>
/// A plain connection as Kestrel reads it through its stream (<see cref="StreamConnection"/> over a
/// <see cref="LoopStream"/>, as the outbound port's HTTP/1.1 connections are): bytes both ways, the peer's end, and an
/// idle connection that waits for data without holding a buffer.
/// </summary>
public sealed class StreamConnectionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Plain_BytesBothWays_ThenThePeersEndCompletesTheInput()
    {
        var pool = new CountingPool();
        var (connection, peer) = await ConnectAsync(pool, waitForData: true);
        await using var _ = connection;
        var pipe = connection.Transport;

        await peer.SendAsync("ping"u8.ToArray());
        var read = await pipe.Input.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.Equal("ping"u8.ToArray(), read.Buffer.ToArray());
        pipe.Input.AdvanceTo(read.Buffer.End);

        await pipe.Output.WriteAsync("pong"u8.ToArray());
        var answer = new byte[4];
        Assert.Equal(4, await peer.ReceiveAsync(answer).WaitAsync(Patience));
        Assert.Equal("pong"u8.ToArray(), answer);

        peer.Shutdown(SocketShutdown.Send);
        var end = await pipe.Input.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.True(end.IsCompleted);
        pipe.Input.AdvanceTo(end.Buffer.End);
        await Eventually.TrueAsync(() => connection.ConnectionClosed.IsCancellationRequested, "ConnectionClosed after the peer's end", Patience);
        peer.Dispose();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ClosedFromThisSide_ThePeerSeesAnOrderlyEnd_AndConnectionClosedHasFiredOnceDisposed(bool waitForData)
    {
        var pool = new CountingPool();
        var (connection, peer) = await ConnectAsync(pool, waitForData);
        using var _ = peer;
        var pipe = connection.Transport;
        await peer.SendAsync("GET"u8.ToArray());
        var read = await pipe.Input.ReadAsync().AsTask().WaitAsync(Patience);
        pipe.Input.AdvanceTo(read.Buffer.End);
        await pipe.Output.WriteAsync("answer"u8.ToArray());
        await Task.Delay(50); // the receive loop waits again

        await connection.DisposeAsync().AsTask().WaitAsync(Patience);

        // Its receive loop ended as at the end of the stream, on the disposing thread: nothing was left to run later.
        Assert.True(connection.ConnectionClosed.IsCancellationRequested);
        Assert.Equal(0, pool.Outstanding);
        var answer = new byte[16];
        Assert.Equal(6, await peer.ReceiveAsync(answer).WaitAsync(Patience));
        Assert.Equal(0, await peer.ReceiveAsync(answer).WaitAsync(Patience)); // a FIN, not a reset
    }

    [Theory]
    [InlineData(true, 0)]
    [InlineData(false, 1)]
    public async Task IdleConnection_HoldsABufferOnlyWhenNotWaitingForData(bool waitForData, int buffersWhileIdle)
    {
        var pool = new CountingPool();
        var (connection, peer) = await ConnectAsync(pool, waitForData);
        using var _ = peer;
        await using var __ = connection;

        await Task.Delay(100); // the receive loop has reached its wait
        Assert.Equal(buffersWhileIdle, pool.Outstanding);

        await peer.SendAsync("x"u8.ToArray()); // and a connection that waited still reads what comes
        var read = await connection.Transport.Input.ReadAsync().AsTask().WaitAsync(Patience);
        Assert.Equal("x"u8.ToArray(), read.Buffer.ToArray());
        connection.Transport.Input.AdvanceTo(read.Buffer.End);
    }

    private static async Task<(StreamConnection Connection, Socket Peer)> ConnectAsync(MemoryPool<byte> pool, bool waitForData)
    {
        var (peer, accepted) = await LoopbackPair.OpenAsync();
        var connection = new StreamConnection(accepted, LoopStream.For(accepted), tls: false, pool, PipeScheduler.ThreadPool, 0, waitForData);
        connection.Start();
        return (connection, peer);
    }

    /// <summary>A pool that counts the blocks rented and not yet returned.</summary>
    private sealed class CountingPool : MemoryPool<byte>
    {
        private int _outstanding;

        public int Outstanding => Volatile.Read(ref _outstanding);

        public override int MaxBufferSize => 4096;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Interlocked.Increment(ref _outstanding);
            return new Block(this, new byte[Math.Max(minBufferSize, 4096)]);
        }

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Block(CountingPool pool, byte[] array) : IMemoryOwner<byte>
        {
            private int _disposed;

            public Memory<byte> Memory => array;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                    Interlocked.Decrement(ref pool._outstanding);
            }
        }
    }
}
