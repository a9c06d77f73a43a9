using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedMesh.Core.Transport;

/// <summary>
/// A Kestrel transport for TLS listeners (<see cref="TlsEndPoint"/>). Kestrel's HTTPS middleware runs
/// SslStream over the socket transport's pipes and puts pipes back on top (socket → pipe → stream adapter
/// → SslStream → pipe reader/writer → HTTP parser); here SslStream runs straight over the socket, one loop
/// moves decrypted bytes into the pipe Kestrel reads, and Kestrel's writes are encrypted straight onto the
/// socket (<see cref="StreamConnection"/>). The handshake runs before Kestrel sees the connection, which then
/// goes to the endpoint of the protocol ALPN chose (<see cref="SharedPort"/>).
/// </summary>
public sealed partial class TlsTransport : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    private readonly SocketTransportOptions _transport;
    private readonly ILogger _logger;
    private readonly StreamConnections _connections;
    private readonly SharedPorts _ports;

    public TlsTransport(IOptions<SocketTransportOptions> transport, ILoggerFactory loggers)
    {
        _transport = transport.Value;
        _logger = loggers.CreateLogger("FedMesh.Listener");
        _ports = new SharedPorts(_transport, _logger);
        _connections = new StreamConnections(_transport);
    }

    public bool CanBind(EndPoint endpoint) => endpoint is TlsEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not TlsEndPoint tls)
            throw new NotSupportedException($"{endpoint} is not a TLS endpoint");
        return ValueTask.FromResult(_ports.Open(tls, (socket, stopping) => HandshakeAsync(socket, tls.Tls, stopping),
            bound => new TlsEndPoint(bound, tls.Protocol, tls.Tls)));
    }

    public void Dispose()
    {
        _connections.Dispose();
    }

    private async Task<RoutedConnection?> HandshakeAsync(Socket socket, TlsListenOptions tls, CancellationToken stopping)
    {
        var transport = LoopStream.For(socket);
        var connection = _connections.Create(socket, transport, tls: true);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(tls.HandshakeTimeout);
        try
        {
            await LoopStream.HandshakeOffLoopAsync(transport, async () =>
            {
                var options = await tls.OnConnection(connection, timeout.Token).ConfigureAwait(false);
                await connection.Ssl!.AuthenticateAsServerAsync(options, timeout.Token).ConfigureAwait(false);
            }).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            var remote = connection.RemoteEndPoint?.ToString() ?? "?";
            if (e is OperationCanceledException && !stopping.IsCancellationRequested)
                HandshakeTimedOut(_logger, remote, tls.HandshakeTimeout.TotalSeconds);
            else if (e is AuthenticationException or IOException or OperationCanceledException or SocketException or ObjectDisposedException)
                HandshakeFailed(_logger, remote, e.Message);
            else
                ConnectionRefused(_logger, remote, e.Message); // the options callback refused it
            await connection.DisposeAsync().ConfigureAwait(false);
            return null;
        }
        connection.Start();
        var protocol = connection.Ssl!.NegotiatedApplicationProtocol == SslApplicationProtocol.Http2 ? HttpProtocols.Http2 : HttpProtocols.Http1;
        return new RoutedConnection(protocol, connection);
    }

    // Debug, as Kestrel's HTTPS middleware logs them: scanners and half-open clients are routine.
    [LoggerMessage(10, LogLevel.Debug, "TLS handshake with {Remote} failed: {Reason}")]
    private static partial void HandshakeFailed(ILogger logger, string remote, string reason);

    [LoggerMessage(11, LogLevel.Debug, "TLS handshake with {Remote} timed out after {Seconds} s")]
    private static partial void HandshakeTimedOut(ILogger logger, string remote, double seconds);

    [LoggerMessage(12, LogLevel.Warning, "TLS connection from {Remote} refused: {Reason}")]
    private static partial void ConnectionRefused(ILogger logger, string remote, string reason);
}
