using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;

namespace FedMesh.Core.Transport;

/// <summary>
/// Makes one transport's <see cref="StreamConnection"/>s (the TLS listeners', the outbound port's plain HTTP/1.1 ones)
/// with its memory pool (<see cref="BlockPool"/>) and Kestrel's socket-transport settings, applied as that transport applies them.
/// </summary>
internal sealed class StreamConnections : IDisposable
{
    private readonly SocketTransportOptions _transport;
    private readonly MemoryPool<byte> _pool;
    private readonly PipeScheduler _readerScheduler;

    public StreamConnections(SocketTransportOptions transport)
    {
        _transport = transport;
        _pool = new BlockPool();
        // As the socket transport: with inline scheduling Kestrel parses on the thread that read the bytes.
        _readerScheduler = transport.UnsafePreferInlineScheduling ? PipeScheduler.Inline : PipeScheduler.ThreadPool;
    }

    /// <summary>A connection over <paramref name="stream"/>, the accepted <paramref name="socket"/>'s (see <see cref="StreamConnection"/>).</summary>
    public StreamConnection Create(Socket socket, Stream stream, bool tls) =>
        new(socket, stream, tls, _pool, _readerScheduler, _transport.MaxReadBufferSize ?? 0, _transport.WaitForDataBeforeAllocatingBuffer);

    public void Dispose() => _pool.Dispose();
}
