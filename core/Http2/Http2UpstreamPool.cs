using System.IO.Pipelines;
using System.Net.Security;
using FedMesh.Core.Forwarding;

namespace FedMesh.Core.Http2;

/// <summary>
/// The HTTP/2 connections to one upstream address that the relay opens streams on: a new stream goes on the first
/// connection with room for it (the server's SETTINGS_MAX_CONCURRENT_STREAMS, not draining), and a connection is opened
/// only when none has room, one opening at a time. TLS offers only h2 by ALPN; a plain address is spoken to with prior
/// knowledge (h2c). A connection with no stream for the idle timeout is closed by <see cref="Sweep"/>.
/// </summary>
internal sealed class Http2UpstreamPool(string host, int port, SslClientAuthenticationOptions? tls, TimeSpan connectTimeout, TimeSpan idleTimeout,
    Http2ConnectionOptions? options = null) : IDisposable
{
    private readonly Lock _lock = new();
    private readonly List<Pooled> _connections = [];
    private Task<Pooled>? _connecting;
    private bool _disposed;

    /// <summary>Open connections.</summary>
    public int Count
    {
        get { lock (_lock) return _connections.Count; }
    }

    /// <summary>A new stream for <paramref name="handler"/>, on a pooled connection or a new one.</summary>
    public async ValueTask<Http2Stream> OpenStreamAsync(IHttp2StreamHandler handler, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            Task<Pooled> connecting;
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                foreach (var pooled in _connections)
                {
                    if (pooled.Connection.TryOpenStream(handler, out var stream))
                    {
                        pooled.LastUsed = Environment.TickCount64;
                        return stream;
                    }
                }
                connecting = _connecting ??= ConnectAsync();
            }
            Pooled opened;
            try
            {
                opened = await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                lock (_lock)
                {
                    if (ReferenceEquals(_connecting, connecting) && connecting.IsCompleted)
                        _connecting = null;
                }
            }
            if (opened.Connection.TryOpenStream(handler, out var fresh))
                return fresh;
            if (attempt >= 2)
                throw new IOException($"{host}:{port} takes no new HTTP/2 stream on a new connection (SETTINGS_MAX_CONCURRENT_STREAMS 0, or GOAWAY at once)");
        }
    }

    /// <summary>Closes the connections idle past the timeout; says when the next may be due (null: none is idle).</summary>
    public TimeSpan? Sweep()
    {
        List<Pooled> idle = [];
        TimeSpan? next = null;
        lock (_lock)
        {
            var now = Environment.TickCount64;
            foreach (var pooled in _connections)
            {
                if (pooled.Connection.ActiveStreams > 0)
                {
                    pooled.LastUsed = now; // looked at again once it may have been idle that long
                    next = next is null || idleTimeout < next ? idleTimeout : next;
                    continue;
                }
                var left = TimeSpan.FromMilliseconds(pooled.LastUsed + (long)idleTimeout.TotalMilliseconds - now);
                if (left <= TimeSpan.Zero)
                    idle.Add(pooled);
                else if (next is null || left < next)
                    next = left;
            }
            foreach (var pooled in idle)
                _connections.Remove(pooled);
        }
        foreach (var pooled in idle)
            _ = pooled.Connection.DisposeAsync().AsTask();
        return next;
    }

    public void Dispose()
    {
        Pooled[] open;
        lock (_lock)
        {
            _disposed = true;
            open = [.. _connections];
            _connections.Clear();
        }
        foreach (var pooled in open)
            _ = pooled.Connection.DisposeAsync().AsTask();
    }

    private async Task<Pooled> ConnectAsync()
    {
        var (socket, ssl) = await UpstreamStream.OpenAsync(host, port, tls, connectTimeout, CancellationToken.None).ConfigureAwait(false);
        if (ssl is not null && ssl.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw new IOException($"{host}:{port} did not choose HTTP/2 by ALPN (it chose '{ssl.NegotiatedApplicationProtocol}')");
        }
        Stream transport = ssl ?? socket;
        var pipe = new StreamPipe(transport);
        var connection = new Http2Connection(pipe, isServer: false, options);
        var pooled = new Pooled(connection) { LastUsed = Environment.TickCount64 };
        lock (_lock)
        {
            if (_disposed)
            {
                _ = connection.DisposeAsync().AsTask();
                throw new ObjectDisposedException(nameof(Http2UpstreamPool));
            }
            _connections.Add(pooled);
        }
        _ = RunAsync(pooled, transport);
        return pooled;
    }

    /// <summary>Runs a connection until it ends, then takes it out of the pool and closes its transport.</summary>
    private async Task RunAsync(Pooled pooled, Stream transport)
    {
        try
        {
            await pooled.Connection.RunAsync().ConfigureAwait(false);
        }
        catch (Exception)
        {
            // RunAsync reports its end to the streams; nothing else waits for it.
        }
        finally
        {
            lock (_lock)
                _connections.Remove(pooled);
            await transport.DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Pooled(Http2Connection connection)
    {
        public Http2Connection Connection { get; } = connection;

        public long LastUsed { get; set; }
    }

    /// <summary>A stream as a duplex pipe.</summary>
    private sealed class StreamPipe(Stream stream) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }
}
