using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Forwarding.Support;

/// <summary>
/// A raw TCP upstream on 127.0.0.1, port 0: each accepted connection runs a script that reads request bytes
/// and writes response bytes, so a test sees exactly what went on the wire and can make the upstream misbehave.
/// </summary>
internal sealed class ScriptedUpstream : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<UpstreamConnection, Task> _script;
    private readonly X509Certificate2? _certificate;
    private readonly Func<int, CancellationToken, Task>? _beforeHandshake;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<UpstreamConnection> _connections = [];
    private readonly ConcurrentBag<Task> _running = [];
    private readonly Channel<UpstreamRequest> _requests = Channel.CreateUnbounded<UpstreamRequest>();
    private readonly Channel<UpstreamConnection> _closed = Channel.CreateUnbounded<UpstreamConnection>();
    private readonly ConcurrentQueue<Exception> _errors = new(); // a script that broke did not play its part: the test fails
    private readonly Task _accepting;
    private int _accepted;

    private ScriptedUpstream(Func<UpstreamConnection, Task> script, X509Certificate2? certificate, Func<int, CancellationToken, Task>? beforeHandshake)
    {
        _script = script;
        _certificate = certificate;
        _beforeHandshake = beforeHandshake;
        _listener.Start();
        _accepting = AcceptLoopAsync();
    }

    /// <summary>Runs <paramref name="script"/> on every accepted connection (over TLS with <paramref name="certificate"/>).</summary>
    /// <param name="beforeHandshake">
    /// Awaited for each accepted connection (by its number) before the TLS handshake or the script: over TLS, the
    /// client's connection is not open until it returns, so a test can make opening slow or stall it.
    /// </param>
    public static ScriptedUpstream Start(Func<UpstreamConnection, Task> script, X509Certificate2? certificate = null,
        Func<int, CancellationToken, Task>? beforeHandshake = null) => new(script, certificate, beforeHandshake);

    /// <summary>Answers every request on every connection with <paramref name="respond"/>, keeping connections open until the peer closes.</summary>
    public static ScriptedUpstream Answering(Func<UpstreamRequest, string> respond, X509Certificate2? certificate = null,
        Func<int, CancellationToken, Task>? beforeHandshake = null) =>
        new(async connection =>
        {
            while (await connection.ReadRequestAsync() is { } request)
                await connection.SendAsync(respond(request));
        }, certificate, beforeHandshake);

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string Prefix => $"{(_certificate is null ? "http" : "https")}://127.0.0.1:{Port}";

    /// <summary>TCP connections accepted so far.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>The next request any connection read, in arrival order.</summary>
    public async Task<UpstreamRequest> NextRequestAsync()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        return await _requests.Reader.ReadAsync(deadline.Token);
    }

    /// <summary>The next connection whose script saw the peer close or reset it.</summary>
    public async Task<UpstreamConnection> NextClosedByPeerAsync()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        return await _closed.Reader.ReadAsync(deadline.Token);
    }

    internal void Record(UpstreamRequest request) => _requests.Writer.TryWrite(request);

    internal void RecordClosedByPeer(UpstreamConnection connection) => _closed.Writer.TryWrite(connection);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var number = Interlocked.Increment(ref _accepted);
            _running.Add(RunAsync(socket, number));
        }
    }

    private async Task RunAsync(Socket socket, int number)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        UpstreamConnection? connection = null;
        try
        {
            SslApplicationProtocol? alpn = null;
            if (_beforeHandshake is not null)
                await _beforeHandshake(number, _stop.Token);
            if (_certificate is not null)
            {
                var ssl = new SslStream(stream);
                using var handshake = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                handshake.CancelAfter(Deadline);
                await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                }, handshake.Token);
                alpn = ssl.NegotiatedApplicationProtocol;
                stream = ssl;
            }
            connection = new UpstreamConnection(this, number, socket, stream, alpn, _stop.Token);
            _connections.Add(connection);
            await _script(connection);
        }
        catch (Exception e) when (e is IOException or SocketException && connection is not null)
        {
            RecordClosedByPeer(connection!); // reset while the script wrote or read
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The test ended, or the handshake failed: what the script was doing no longer matters.
        }
        catch (Exception e)
        {
            _errors.Enqueue(e);
        }
        finally
        {
            await stream.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        foreach (var connection in _connections)
            connection.Close();
        await _accepting;
        await Task.WhenAll(_running).WaitAsync(Deadline);
        _stop.Dispose();
        if (!_errors.IsEmpty)
            throw new AggregateException("the upstream's script failed", _errors);
    }
}

/// <summary>One accepted connection, as the script sees it.</summary>
internal sealed class UpstreamConnection
{
    private readonly ScriptedUpstream _upstream;
    private readonly Socket _socket;
    private readonly CancellationTokenSource _lifetime;

    internal UpstreamConnection(ScriptedUpstream upstream, int number, Socket socket, Stream stream, SslApplicationProtocol? alpn, CancellationToken stopped)
    {
        _upstream = upstream;
        Number = number;
        _socket = socket;
        Stream = stream;
        NegotiatedProtocol = alpn;
        _lifetime = CancellationTokenSource.CreateLinkedTokenSource(stopped);
        _lifetime.CancelAfter(ScriptedUpstream.Deadline);
        Reader = new WireReader(stream);
    }

    /// <summary>1 for the first connection accepted, 2 for the second, and so on.</summary>
    public int Number { get; }

    public Stream Stream { get; }

    public WireReader Reader { get; }

    /// <summary>The ALPN protocol agreed over TLS; null over plain TCP.</summary>
    public SslApplicationProtocol? NegotiatedProtocol { get; }

    public int RequestsRead { get; private set; }

    /// <summary>Bounds every wait of the script: cancelled when the test ends or the connection is older than the deadline.</summary>
    public CancellationToken Token => _lifetime.Token;

    /// <summary>The next request head (its body left unread); null when the peer closed the connection between requests.</summary>
    public async Task<UpstreamRequest?> ReadHeadAsync()
    {
        var head = await Reader.ReadHeadAsync(Token);
        if (head is null)
        {
            _upstream.RecordClosedByPeer(this);
            return null;
        }
        var parts = head.StartLine.Split(' ');
        RequestsRead++;
        return new UpstreamRequest(this, RequestsRead, parts[0], parts[1], parts[2], head);
    }

    /// <summary>Reads the body the head announced (by Content-Length or chunked) and records the request.</summary>
    public async Task<UpstreamRequest> ReadBodyAsync(UpstreamRequest request)
    {
        if (request.Head.Values("Transfer-Encoding") is [.., var coding] && coding.EndsWith("chunked", StringComparison.OrdinalIgnoreCase))
        {
            var (raw, data, _, chunks) = await Reader.ReadChunkedAsync(Token);
            request = request with { RawBody = raw, Body = data, Chunks = chunks };
        }
        else if (request.Head.Values("Content-Length") is [var length])
        {
            var body = await Reader.ReadExactlyAsync(long.Parse(length), Token);
            request = request with { RawBody = body, Body = body };
        }
        _upstream.Record(request);
        return request;
    }

    /// <summary>The next whole request; null when the peer closed the connection between requests.</summary>
    public async Task<UpstreamRequest?> ReadRequestAsync() =>
        await ReadHeadAsync() is { } head ? await ReadBodyAsync(head) : null;

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await Stream.WriteAsync(bytes, Token);
        await Stream.FlushAsync(Token);
    }

    /// <summary>Reads (and drops) whatever arrives until the peer closes or resets the connection; false if it did not within the deadline.</summary>
    public async Task<bool> WaitClosedByPeerAsync()
    {
        try
        {
            await Reader.ReadToEndAsync(Token);
        }
        catch (IOException)
        {
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        _upstream.RecordClosedByPeer(this);
        return true;
    }

    /// <summary>Resets the connection (RST): what a crashed server's peer sees.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>Closes gracefully (FIN).</summary>
    public void Close()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        _socket.Close();
    }
}

/// <summary>A request as the upstream read it off the wire.</summary>
internal sealed record UpstreamRequest(UpstreamConnection Connection, int Sequence, string Method, string Target, string Version, WireHead Head)
{
    /// <summary>The body after its framing was removed.</summary>
    public byte[] Body { get; init; } = [];

    /// <summary>The body as framed on the wire (the chunk lines included when chunked).</summary>
    public byte[] RawBody { get; init; } = [];

    public int Chunks { get; init; }

    public string[] Values(string name) => Head.Values(name);
}
