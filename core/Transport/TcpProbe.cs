using System.Net;
using System.Net.Sockets;

namespace FedMesh.Core.Transport;

/// <summary>
/// A TCP probe, as a kubelet's: whether something accepts a connection at an address within a timeout. A local peer's
/// answer (accepted or refused) is in by the time the connect returns, so the probe takes it there, on the calling
/// thread, with no timer set and no other thread woken (a sidecar probes its app every second, idle or not); only a
/// connect still under way (a remote host, a full backlog) is made again on FedMesh's socket loop, and waited for up
/// to the timeout.
/// </summary>
public static class TcpProbe
{
    /// <summary>
    /// True once <paramref name="host"/> (an address or a name) accepts a connection on <paramref name="port"/>; false
    /// when it refuses, cannot be reached, or has not answered within <paramref name="timeout"/>. Throws only when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public static async Task<bool> ReachableAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (SocketLoop.Available && IPAddress.TryParse(host, out var address) && LoopStream.ConnectAtOnce(new IPEndPoint(address, port)) is { } answered)
            return answered;
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        try
        {
            await (await LoopStream.ConnectAsync(host, port, attempt.Token).ConfigureAwait(false)).DisposeAsync().ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is SocketException or IOException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }
}
