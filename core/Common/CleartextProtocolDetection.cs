using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FedMesh.Core.Common;

/// <summary>
/// One cleartext port that serves HTTP/1.1 and HTTP/2 with prior knowledge (h2c, what gRPC clients send)
/// side by side. Kestrel cannot: without TLS there is no ALPN, so an endpoint that allows both always picks
/// HTTP/1.1 (dotnet/aspnetcore#56984). Here the port is bound once and shown to Kestrel as two endpoints,
/// one per protocol (<see cref="DetectedEndPoint"/>); each accepted socket is looked at with
/// <c>MSG_PEEK</c> (nothing is consumed) and handed to the HTTP/2 endpoint when its first bytes are the
/// HTTP/2 connection preface ("PRI", a method RFC 9113 reserves for it), to the HTTP/1.1 endpoint otherwise.
/// Kestrel then reads the connection from its first byte as usual.
/// </summary>
public sealed class CleartextProtocolDetection : IConnectionListenerFactory, IConnectionListenerFactorySelector, IDisposable
{
    /// <summary>How long an accepted connection may stay silent before its protocol is known (Kestrel's request-headers timeout).</summary>
    public static readonly TimeSpan DetectionTimeout = TimeSpan.FromSeconds(30);

    private static readonly byte[] PrefaceStart = "PRI"u8.ToArray();

    private readonly SocketTransportOptions _transport;
    private readonly SocketConnectionContextFactory _connections;
    private readonly ILogger _logger;
    private readonly SharedPorts _ports;
    private readonly StreamConnections _streamConnections;

    public CleartextProtocolDetection(IOptions<SocketTransportOptions> transport, ILoggerFactory loggers)
    {
        _transport = transport.Value;
        _streamConnections = new StreamConnections(_transport);
        _logger = loggers.CreateLogger("FedMesh.Listener");
        _ports = new SharedPorts(_transport, _logger);
        _connections = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions
        {
            IOQueueCount = _transport.IOQueueCount,
            WaitForDataBeforeAllocatingBuffer = _transport.WaitForDataBeforeAllocatingBuffer,
            MaxReadBufferSize = _transport.MaxReadBufferSize,
            MaxWriteBufferSize = _transport.MaxWriteBufferSize,
            UnsafePreferInlineScheduling = _transport.UnsafePreferInlineScheduling,
        }, _logger);
    }

    public bool CanBind(EndPoint endpoint) => endpoint is DetectedEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not DetectedEndPoint detected)
            throw new NotSupportedException($"{endpoint} is not an endpoint with protocol detection");
        return ValueTask.FromResult(_ports.Open(detected, RouteAsync, bound => new DetectedEndPoint(bound, detected.Protocol)));
    }

    /// <summary>Which protocol a connection speaks, from its first bytes; null while they could still be either.</summary>
    public static HttpProtocols? Detect(ReadOnlySpan<byte> first)
    {
        var n = Math.Min(first.Length, PrefaceStart.Length);
        if (!first[..n].SequenceEqual(PrefaceStart.AsSpan(0, n)))
            return HttpProtocols.Http1;
        return n == PrefaceStart.Length ? HttpProtocols.Http2 : null;
    }

    public void Dispose()
    {
        _connections.Dispose();
        _streamConnections.Dispose();
    }

    private async Task<RoutedConnection?> RouteAsync(Socket socket, CancellationToken stopping)
    {
        var first = new byte[PrefaceStart.Length];
        // The detection's deadline, set only once the first bytes must be waited for: they have usually arrived with
        // the connection (the port defers accepting until they do), and then no timer is made.
        CancellationTokenSource? timeout = null;
        // On FedMesh's socket loop where there is one: the connection stays there, read through a stream connection
        // (HTTP/2 too when our relay serves it, so that a stream's caller and upstream connections share the loop's
        // thread); Kestrel's own HTTP/2 goes back to its socket transport.
        var loop = SocketLoop.Available ? (LoopStream)LoopStream.For(socket) : null;
        try
        {
            while (true)
            {
                // Waits for the first bytes, and leaves them in the socket for Kestrel.
                int n;
                if (loop is null)
                    n = await socket.ReceiveAsync(first, SocketFlags.Peek, (timeout ??= Deadline(stopping)).Token).ConfigureAwait(false);
                else if ((n = loop.Peek(first)) < 0)
                {
                    await loop.ReadAsync(Memory<byte>.Empty, (timeout ??= Deadline(stopping)).Token).ConfigureAwait(false);
                    continue;
                }
                var protocol = n == 0 ? HttpProtocols.Http1 : Detect(first.AsSpan(0, n)); // closed at once: Kestrel sees the end
                if (protocol is { } known)
                    return new RoutedConnection(known, Connection(socket, loop, known));
                // "P" or "PR" so far: the rest of the preface is on its way (a peek would return at once).
                await Task.Delay(TimeSpan.FromMilliseconds(5), (timeout ??= Deadline(stopping)).Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException)
        {
            if (loop is not null)
                await loop.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            return null;
        }
        finally
        {
            timeout?.Dispose();
        }
    }

    /// <summary>Cancelled when the server stops or the connection has stayed silent past <see cref="DetectionTimeout"/>.</summary>
    private static CancellationTokenSource Deadline(CancellationToken stopping)
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(DetectionTimeout);
        return timeout;
    }

    private ConnectionContext Connection(Socket socket, LoopStream? loop, HttpProtocols protocol)
    {
        if (loop is null || (protocol == HttpProtocols.Http2 && !Http2.Http2Relay.Enabled))
            return _connections.Create(loop?.Detach() ?? socket);
        var connection = _streamConnections.Create(socket, loop, tls: false);
        connection.Start();
        return connection;
    }
}

/// <summary>
/// One protocol's half of a cleartext port served by <see cref="CleartextProtocolDetection"/>. Shown as
/// the address alone, so Kestrel reports it as <c>http://ADDRESS:PORT</c>.
/// </summary>
public sealed class DetectedEndPoint(IPEndPoint address, HttpProtocols protocol) : SharedPortEndPoint(address, protocol);

/// <summary>Serving HTTP/1.1 and h2c on one cleartext port (<see cref="CleartextProtocolDetection"/>).</summary>
public static class CleartextProtocolDetectionExtensions
{
    /// <summary>Registers the detecting transport; <see cref="ListenHttp1AndH2c"/> endpoints are bound through it.</summary>
    public static IServiceCollection AddCleartextProtocolDetection(this IServiceCollection services) =>
        services.AddSingleton<IConnectionListenerFactory, CleartextProtocolDetection>();

    /// <summary>Listens on <paramref name="endpoint"/> for HTTP/1.1 and HTTP/2 with prior knowledge (h2c) side by side.</summary>
    /// <param name="http1">Configures the HTTP/1.1 half (a connection middleware, say).</param>
    /// <param name="http2">Configures the HTTP/2 half (an <see cref="Http2.Http2Relay"/>, say).</param>
    public static void ListenHttp1AndH2c(this KestrelServerOptions kestrel, IPEndPoint endpoint, Action<ListenOptions>? http1 = null,
        Action<ListenOptions>? http2 = null)
    {
        kestrel.Listen(new DetectedEndPoint(endpoint, HttpProtocols.Http1), listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            http1?.Invoke(listen);
        });
        kestrel.Listen(new DetectedEndPoint(endpoint, HttpProtocols.Http2), listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            http2?.Invoke(listen);
        });
    }
}
