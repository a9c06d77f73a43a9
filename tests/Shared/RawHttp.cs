using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace FedMesh.Tests.Shared;

/// <summary>One HTTP/1.1 message as it was on the wire: the head, and the body bytes as framed.</summary>
internal sealed record RawMessage(WireHead Head, byte[] Body)
{
    public string StartLine => Head.StartLine;

    public string BodyText => Encoding.Latin1.GetString(Body);

    public string[] Fields(string name) => Head.Values(name);

    public string? Field(string name) => Head.Values(name).SingleOrDefault();
}

/// <summary>Writes HTTP/1.1 messages as bytes and reads them back whole (by their framing), to see exactly what a hop sends.</summary>
internal sealed class RawHttp(Stream stream) : IAsyncDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);
    private readonly WireReader _reader = new(stream);

    /// <summary>A TLS connection with the <paramref name="client"/> options, ALPN http/1.1.</summary>
    public static async Task<RawHttp> ConnectTlsAsync(IPEndPoint endpoint, SslClientAuthenticationOptions client)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(endpoint);
        var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        client.ApplicationProtocols = [SslApplicationProtocol.Http11];
        await ssl.AuthenticateAsClientAsync(client);
        return new RawHttp(ssl);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await stream.WriteAsync(bytes);
        await stream.FlushAsync();
    }

    /// <summary>Reads one response; <paramref name="head"/> for a HEAD request's (no body whatever its fields say).</summary>
    public async Task<RawMessage> ReadResponseAsync(bool head = false) =>
        await ReadMessageAsync(response: true, head) ?? throw new EndOfStreamException("the connection closed before a response");

    /// <summary>Reads one request; null when the connection closed before one began.</summary>
    public Task<RawMessage?> ReadRequestAsync() => ReadMessageAsync(response: false, head: false);

    /// <summary>True when the peer closed the connection (within the deadline) without sending anything more.</summary>
    public async Task<bool> ClosedAsync()
    {
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            return await _reader.ReadHeadAsync(deadline.Token) is null;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<RawMessage?> ReadMessageAsync(bool response, bool head)
    {
        using var deadline = new CancellationTokenSource(Deadline);
        var message = await _reader.ReadHeadAsync(deadline.Token);
        if (message is null)
            return null;
        var status = response ? int.Parse(message.StartLine.Split(' ')[1]) : 0;
        if (head || status is 204 or 304 or (>= 100 and < 200))
            return new RawMessage(message, []);
        if (message.Values("Transfer-Encoding").LastOrDefault() is { } coding && coding.EndsWith("chunked", StringComparison.OrdinalIgnoreCase))
            return new RawMessage(message, (await _reader.ReadChunkedAsync(deadline.Token)).Raw);
        if (message.Values("Content-Length").SingleOrDefault() is { } length)
            return new RawMessage(message, await _reader.ReadExactlyAsync(long.Parse(length), deadline.Token));
        return new RawMessage(message, response ? await _reader.ReadToEndAsync(deadline.Token) : []);
    }

    public ValueTask DisposeAsync() => stream.DisposeAsync();
}

/// <summary>What a <see cref="RawBackend"/> answers: the bytes sent back, then whether it closes the connection.</summary>
internal sealed record RawAnswer(string Bytes, bool Close = false);

/// <summary>
/// An upstream that records every request exactly as it arrived and answers with scripted bytes, chosen by the
/// request's path (<see cref="Script"/>; a 200 with the request's body otherwise). TLS when given server options.
/// </summary>
internal sealed class RawBackend : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly SslServerAuthenticationOptions? _tls;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public RawBackend(SslServerAuthenticationOptions? tls = null)
    {
        _tls = tls;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public string Address => $"127.0.0.1:{EndPoint.Port}";

    /// <summary>Every request received, in order.</summary>
    public ConcurrentQueue<RawMessage> Received { get; } = new();

    public ConcurrentDictionary<string, Func<RawMessage, RawAnswer?>> Script { get; } = new();

    private int _connections;

    /// <summary>Connections accepted so far.</summary>
    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            Interlocked.Increment(ref _connections);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        try
        {
            Stream stream = client.GetStream();
            if (_tls is not null)
            {
                var ssl = new SslStream(stream);
                await ssl.AuthenticateAsServerAsync(_tls, _stop.Token);
                stream = ssl;
            }
            await using var http = new RawHttp(stream);
            while (true)
            {
                var request = await http.ReadRequestAsync();
                if (request is null)
                    return;
                Received.Enqueue(request);
                var path = request.StartLine.Split(' ')[1];
                var answer = Script.TryGetValue(path.Split('?')[0], out var script)
                    ? script(request)
                    : new RawAnswer($"HTTP/1.1 200 OK\r\nContent-Length: {request.Body.Length}\r\nx-backend: raw\r\n\r\n{request.BodyText}");
                if (answer is null)
                    return; // closes without answering
                await http.SendAsync(answer.Bytes);
                if (answer.Close)
                    return;
            }
        }
        catch (Exception)
        {
        }
        finally
        {
            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
    }
}
