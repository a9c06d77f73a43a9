using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Transport;

/// <summary>
/// Turns one accepted socket into the connection Kestrel reads and the protocol it speaks, or null when
/// the socket was dropped (the router has disposed of it). Runs once per socket, off the accept loop.
/// </summary>
internal delegate Task<RoutedConnection?> ConnectionRouter(Socket accepted, CancellationToken stopping);

/// <summary>A connection ready for Kestrel, and which of the port's endpoints (one per protocol) takes it.</summary>
internal readonly record struct RoutedConnection(HttpProtocols Protocol, ConnectionContext Connection);

/// <summary>
/// One protocol's half of a <see cref="SharedPort"/>: the address and the protocol its connections speak. Shown as the
/// address alone, so Kestrel reports the port as usual.
/// </summary>
public abstract class SharedPortEndPoint(IPEndPoint address, HttpProtocols protocol) : EndPoint
{
    public IPEndPoint Address { get; } = address;
    public HttpProtocols Protocol { get; } = protocol;

    public override AddressFamily AddressFamily => Address.AddressFamily;

    public override string ToString() => Address.ToString();
}

/// <summary>
/// A transport's shared ports by configured address: the first half bound on an address binds its socket, and the
/// port leaves the registry when its last half is unbound.
/// </summary>
internal sealed class SharedPorts(SocketTransportOptions transport, ILogger logger)
{
    private readonly ConcurrentDictionary<IPEndPoint, SharedPort> _ports = new();

    /// <summary>Opens <paramref name="endpoint"/>'s half; <paramref name="route"/> serves the port if this binds it.</summary>
    public IConnectionListener Open(SharedPortEndPoint endpoint, ConnectionRouter route, Func<IPEndPoint, EndPoint> endpointOf)
    {
        var port = _ports.GetOrAdd(endpoint.Address, address => new SharedPort(transport, address, route, logger, () => _ports.TryRemove(address, out _)));
        return port.Open(endpoint.Protocol, endpointOf);
    }
}

/// <summary>
/// One bound socket shown to Kestrel as two endpoints, one per protocol: its accept loop hands each
/// socket to a <see cref="ConnectionRouter"/> and queues the result for the endpoint of its protocol.
/// Kestrel decides HTTP/1.1 or HTTP/2 per endpoint, not per connection, unless it ran TLS itself; this is
/// how a port that does its own protocol detection (or its own TLS) still serves both.
/// </summary>
internal sealed partial class SharedPort
{
    private static readonly TimeSpan AcceptRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly SocketTransportOptions _transport;
    private readonly IPEndPoint _configured;
    private readonly ConnectionRouter _route;
    private readonly ILogger _logger;
    private readonly Action _closed;
    private readonly Lock _lock = new();
    private readonly Channel<ConnectionContext> _http1 = Channel.CreateUnbounded<ConnectionContext>();
    private readonly Channel<ConnectionContext> _http2 = Channel.CreateUnbounded<ConnectionContext>();
    private readonly CancellationTokenSource _stop = new();
    private Socket? _socket;
    private IPEndPoint? _bound;
    private int _open;

    /// <param name="closed">Called once, when the last endpoint is unbound and the socket closed.</param>
    public SharedPort(SocketTransportOptions transport, IPEndPoint configured, ConnectionRouter route, ILogger logger, Action closed)
    {
        _transport = transport;
        _configured = configured;
        _route = route;
        _logger = logger;
        _closed = closed;
    }

    /// <summary>Opens the endpoint of <paramref name="protocol"/>; the first one binds the socket. <paramref name="endpointOf"/> names it from the address bound.</summary>
    public IConnectionListener Open(HttpProtocols protocol, Func<IPEndPoint, EndPoint> endpointOf)
    {
        lock (_lock)
        {
            if (_socket is null)
            {
                var socket = _transport.CreateBoundListenSocket(_configured);
                socket.Listen(_transport.Backlog);
                _socket = socket;
                _bound = (IPEndPoint)socket.LocalEndPoint!;
                _ = AcceptLoopAsync(socket);
            }
            _open++;
            return new ProtocolListener(this, endpointOf(_bound!), protocol == HttpProtocols.Http2 ? _http2 : _http1);
        }
    }

    private void Close()
    {
        lock (_lock)
        {
            if (--_open > 0 || _socket is null)
                return;
            _stop.Cancel();
            _socket.Dispose();
            _socket = null;
            _http1.Writer.TryComplete();
            _http2.Writer.TryComplete();
            _closed();
        }
        // Connections routed but never accepted (the server is stopping) are closed.
        foreach (var queue in (ReadOnlySpan<Channel<ConnectionContext>>)[_http1, _http2])
        {
            while (queue.Reader.TryRead(out var connection))
                _ = DropAsync(connection);
        }
    }

    private static async Task DropAsync(ConnectionContext connection)
    {
        connection.Abort();
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync(Socket listen)
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await listen.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted })
            {
                return;
            }
            catch (SocketException e)
            {
                // E.g. out of file descriptors: say so, and do not spin on it.
                AcceptFailed(_logger, _bound?.ToString() ?? _configured.ToString(), e.Message);
                try { await Task.Delay(AcceptRetryDelay, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                continue;
            }
            accepted.NoDelay = _transport.NoDelay;
            _ = DispatchAsync(accepted);
        }
    }

    private async Task DispatchAsync(Socket socket)
    {
        RoutedConnection? routed;
        try
        {
            routed = await _route(socket, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            // Routers handle their own failures; this is the backstop that keeps the exception observed.
            AcceptFailed(_logger, _bound?.ToString() ?? _configured.ToString(), e.Message);
            socket.Dispose();
            return;
        }
        if (routed is not { } connection)
            return;
        var queue = connection.Protocol == HttpProtocols.Http2 ? _http2 : _http1;
        if (!queue.Writer.TryWrite(connection.Connection))
            await DropAsync(connection.Connection).ConfigureAwait(false); // the port closed meanwhile
    }

    [LoggerMessage(1, LogLevel.Warning, "accepting a connection on {Address} failed: {Reason}")]
    private static partial void AcceptFailed(ILogger logger, string address, string reason);

    /// <summary>What Kestrel sees of the shared port: one protocol's connections.</summary>
    private sealed class ProtocolListener(SharedPort port, EndPoint endpoint, Channel<ConnectionContext> queue) : IConnectionListener
    {
        private int _closed;

        public EndPoint EndPoint { get; } = endpoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await queue.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
                port.Close();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => UnbindAsync();
    }
}
