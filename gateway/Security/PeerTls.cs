using System.Net.Security;
using FedMesh.Core.Identity;
using FedMesh.Core.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FedMesh.Gateway.Security;

/// <summary>
/// Per-connection TLS options for the mTLS listener: our current certificate (so renewals apply to new
/// connections at once), a required client certificate, and a <see cref="ConnectionPeer"/> recording who it is.
/// Sessions resume while our certificate is unchanged (see <see cref="WorkloadIdentity.ServerOptions"/>); the peer
/// of a resumed connection is checked and recorded in full all the same.
/// </summary>
internal sealed class PeerTls(Func<WorkloadIdentity?> identity, TimeProvider time, ILogger logger)
{
    private static readonly List<SslApplicationProtocol> Alpn = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];

    public TlsListenOptions HandshakeOptions() => new()
    {
        OnConnection = OnConnection,
        HandshakeTimeout = GatewayDefaults.HandshakeTimeout,
    };

    private ValueTask<SslServerAuthenticationOptions> OnConnection(ConnectionContext connection, CancellationToken cancellationToken)
    {
        // Before the first certificate arrives there is nothing to present; refuse the connection.
        var current = identity() ?? throw new InvalidOperationException("the gateway has no certificate yet");
        var remote = connection.RemoteEndPoint?.ToString() ?? "?";
        var peer = new ConnectionPeer(current.Anchors, current.LearnedIntermediates, time, logger, remote);
        peer.AttachTo(connection.Items);
        var options = current.ServerOptions();
        options.RemoteCertificateValidationCallback = peer.Validate;
        options.ApplicationProtocols = Alpn;
        return ValueTask.FromResult(options);
    }
}
