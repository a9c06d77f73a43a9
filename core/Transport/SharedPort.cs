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
/// the socket was dropped (the router has disposed of it). Runs once per socket, started by the accept loop on the
/// accepting thread; the loop goes on accepting once the router first waits.
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

    /// <summary>
    /// What serves this endpoint's connections before Kestrel does, if anything. Kestrel's own dispatch costs each
    /// connection two trips through the thread pool before its first byte is read; a front (the HTTP/1.1 relay) starts
    /// on the thread that accepted and routed it, so a caller that opens a connection per request is served without
    /// them. Set while configuring the endpoint, before it is bound.
    /// </summary>
    public ConnectionFront? Front { get; set; }

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
        return port.Open(endpoint.Protocol, endpoint.Front, endpointOf);
    }
}

/// <summary>
/// One bound socket shown to Kestrel as two endpoints, one per protocol: its accept loop hands each
/// socket to a <see cref="ConnectionRouter"/> and queues the result for the endpoint of its protocol.
/// Kestrel decides HTTP/1.1 or HTTP/2 per endpoint, not per connection, unless it ran TLS itself; this is
/// how a port that does its own protocol detection (or its own TLS) still serves both. A protocol with a
/// <see cref="ConnectionFront"/> has its connections run by it first; the port tracks those itself, and on stopping
/// asks them to close and waits for them (aborting them when the server's shutdown timeout ends), as Kestrel does with
/// its own.
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
    private LoopStream? _listening; // the socket on FedMesh's loop, where there is one (it owns the socket)
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

    /// <summary>
    /// Opens the endpoint of <paramref name="protocol"/>, served by <paramref name="front"/> (if any) before Kestrel; the
    /// first one binds the socket. <paramref name="endpointOf"/> names it from the address bound.
    /// </summary>
    public IConnectionListener Open(HttpProtocols protocol, ConnectionFront? front, Func<IPEndPoint, EndPoint> endpointOf)
    {
        lock (_lock)
        {
            if (_socket is null)
            {
                var socket = _transport.CreateBoundListenSocket(_configured);
                DeferAccept(socket);
                socket.Listen(_transport.Backlog);
                _socket = socket;
                _bound = (IPEndPoint)socket.LocalEndPoint!;
                _listening = SocketLoop.Available ? (LoopStream)LoopStream.For(socket) : null;
                _ = AcceptLoopAsync(socket, _listening);
            }
            _open++;
            var http2 = protocol == HttpProtocols.Http2;
            _fronts[http2 ? 1 : 0] = front;
            var named = endpointOf(_bound!);
            if (named is SharedPortEndPoint shared)
                shared.Front = front; // a rebind keeps it
            return new ProtocolListener(this, named, http2 ? _http2 : _http1);
        }
    }

    /// <summary>
    /// Every protocol a shared port serves has the client speak first (a request head, the HTTP/2 preface, a TLS
    /// ClientHello). On Linux the kernel is asked to hand a connection over only once its first bytes have arrived (or
    /// after <see cref="DeferAcceptSeconds"/> of silence, so a quiet client is still accepted, and timed out by its
    /// router): one wake-up per new connection instead of two, and the router finds what it reads already there.
    /// </summary>
    internal static void DeferAccept(Socket listen)
    {
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            listen.SetRawSocketOption(Libc.IpProtoTcp, Libc.TcpDeferAccept, BitConverter.GetBytes(DeferAcceptSeconds));
        }
        catch (SocketException)
        {
            // Not offered (a sandbox's stack, say): connections are accepted as they come.
        }
    }

    internal const int DeferAcceptSeconds = 5;

    /// <summary>Closes the port once its last endpoint is unbound; <paramref name="shutdownTimeout"/> ends the fronts' connections' grace.</summary>
    private void Close(CancellationToken shutdownTimeout)
    {
        lock (_lock)
        {
            if (--_open > 0 || _socket is null)
                return;
            _stop.Cancel();
            if (_listening is not null)
                _listening.Dispose();
            else
                _socket.Dispose();
            _socket = null;
            _http1.Writer.TryComplete();
            _http2.Writer.TryComplete();
            _closed();
        }
        DrainFronts(shutdownTimeout); // outside the lock: it runs the fronts' continuations
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

    /// <summary>
    /// Accepts and dispatches connections until the port closes. On FedMesh's socket loop (<paramref name="loop"/>) the
    /// loop's thread accepts, as nginx's worker does, and routes each connection (and, with a front, serves its first
    /// request, whose bytes are there: <see cref="DeferAccept"/>) without another thread's wake-up; elsewhere .NET's
    /// socket engine accepts.
    /// </summary>
    private async Task AcceptLoopAsync(Socket listen, LoopStream? loop)
    {
        var signalled = false; // the loop has just said a connection is waiting
        while (!_stop.IsCancellationRequested)
        {
            Socket? accepted;
            try
            {
                if (loop is null)
                    accepted = await listen.AcceptAsync(_stop.Token).ConfigureAwait(false);
                else if ((accepted = loop.TryAccept(signalled)) is null)
                {
                    await loop.ReadAsync(Memory<byte>.Empty, _stop.Token).ConfigureAwait(false); // the next connection
                    signalled = true;
                    continue;
                }
                signalled = false;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException { SocketErrorCode: SocketError.OperationAborted }
                || _stop.IsCancellationRequested)
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
        var http2 = connection.Protocol == HttpProtocols.Http2;
        var queue = http2 ? _http2 : _http1;
        if (_fronts[http2 ? 1 : 0] is { } front)
            await RunFrontAsync(connection.Connection, front, queue).ConfigureAwait(false);
        else
            await HandOff(connection.Connection, queue).ConfigureAwait(false);
    }

    /// <summary>Gives <paramref name="connection"/> to Kestrel, through the endpoint's queue.</summary>
    private static Task HandOff(ConnectionContext connection, Channel<ConnectionContext> queue) =>
        queue.Writer.TryWrite(connection) ? Task.CompletedTask : DropAsync(connection); // else the port closed meanwhile

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

        /// <summary>The last endpoint's unbinding closes the port; <paramref name="cancellationToken"/> is the server's shutdown timeout.</summary>
        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0)
                port.Close(cancellationToken);
            return ValueTask.CompletedTask;
        }

        /// <summary>Waits, once the port is closed, for the fronts' connections to end (Kestrel has already waited for its own).</summary>
        public async ValueTask DisposeAsync()
        {
            await UnbindAsync().ConfigureAwait(false);
            await port.Drained.ConfigureAwait(false);
        }
    }
}
