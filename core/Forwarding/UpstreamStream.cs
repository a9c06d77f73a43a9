using System.Net.Security;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// A new connection to an upstream for the data plane's pools (<see cref="Http11Pool"/>, <see cref="Http2.Http2UpstreamPool"/>):
/// a socket-loop connect, then the TLS handshake when <c>tls</c> is given, the two within one connect timeout, whose
/// expiry is reported as a <see cref="TimeoutException"/> that says which step ran out.
/// </summary>
internal static class UpstreamStream
{
    /// <returns>The transport (the socket's stream) and, over TLS, the authenticated stream on it (null for plain).</returns>
    public static async ValueTask<(Stream Transport, SslStream? Ssl)> OpenAsync(string host, int port, SslClientAuthenticationOptions? tls,
        TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        Stream transport;
        try
        {
            transport = await LoopStream.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"connecting to {host}:{port} took longer than {timeout.TotalSeconds:0.###} s");
        }
        if (tls is null)
            return (transport, null);
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false);
        try
        {
            await LoopStream.HandshakeOffLoopAsync(transport, () => ssl.AuthenticateAsClientAsync(tls, deadline.Token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"the TLS handshake with {host}:{port} took longer than {timeout.TotalSeconds:0.###} s");
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return (transport, ssl);
    }
}
