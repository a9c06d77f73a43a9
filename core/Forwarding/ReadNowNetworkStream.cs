using System.Net.Sockets;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// The socket stream under a direct-path connection's <see cref="System.Net.Security.SslStream"/>. SslStream reads
/// from its inner stream in two steps whenever it has no whole TLS record buffered: a zero-byte read to wait for data
/// without holding a buffer, then the real read. Waiting without a buffer is worth it for a connection that sits idle
/// with a read pending; ours read only while a response is due, and a pooled connection has no read pending. So a
/// zero-byte read completes at once here, and SslStream goes straight to the real read: one socket operation per
/// response instead of two (a 1-byte MSG_PEEK that mostly fails with EAGAIN, and its completion).
/// </summary>
internal sealed class ReadNowNetworkStream(Socket socket) : NetworkStream(socket, ownsSocket: true)
{
    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        buffer.IsEmpty ? ValueTask.FromResult(0) : base.ReadAsync(buffer, cancellationToken);
}
