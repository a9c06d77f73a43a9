using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>An <see cref="Http2Connection"/> under test, its read loop running, and the ways a test reaches it.</summary>
internal sealed class RunningConnection : IAsyncDisposable
{
    private readonly SocketPipe _transport;

    private RunningConnection(SocketPipe transport, Func<SocketPipe, Http2Connection> create)
    {
        _transport = transport;
        Connection = create(transport);
        Run = Connection.RunAsync();
    }

    public Http2Connection Connection { get; }

    /// <summary>The read loop: ends when the connection does.</summary>
    public Task Run { get; }

    public static RunningConnection Server(Socket socket, Func<Http2Stream, IHttp2StreamHandler> accept, Http2ConnectionOptions? options = null) =>
        new(new SocketPipe(socket), pipe => new Http2Connection(pipe, isServer: true, options, accept));

    public static RunningConnection Client(Socket socket, Http2ConnectionOptions? options = null) =>
        new(new SocketPipe(socket), pipe => new Http2Connection(pipe, isServer: false, options));

    /// <summary>Opens a client stream for <paramref name="owner"/> and sends its request head (and body, when there is one).</summary>
    public async Task<Http2Stream> RequestAsync(StreamLog owner, string method, string path, string authority, byte[]? body = null)
    {
        Assert.True(Connection.TryOpenStream(owner, out var stream), "the connection takes a new stream");
        owner.Stream = stream;
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        var head = Kit.Fields((":method", method), (":scheme", "http"), (":authority", authority), (":path", path), ("te", "trailers"));
        await stream.SendHeadersAsync(head, endStream: body is null, deadline.Token);
        if (body is not null)
            await stream.SendDataAsync(body, endStream: true, deadline.Token);
        return stream;
    }

    /// <summary>A whole exchange: the request sent, and the owner's log once the response has ended or the stream was reset.</summary>
    public async Task<StreamLog> ExchangeAsync(string method, string path, string authority, byte[]? body = null)
    {
        var log = new StreamLog();
        await RequestAsync(log, method, path, authority, body);
        await log.EndedAsync();
        return log;
    }

    /// <summary>Waits, bounded, for the read loop to return (it must not throw), and checks the connection used its transport as a pipe must be used.</summary>
    public async Task EndedAsync()
    {
        await Run.WaitAsync(Eventually.DefaultTimeout);
        Assert.Empty(_transport.Misuse);
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await EndedAsync();
    }
}

/// <summary>
/// An owner that records what its stream hears: each header block, the data (given back with Consumed unless told
/// not to) and resets, counted.
/// </summary>
internal sealed class StreamLog(bool consume = true) : IHttp2StreamHandler
{
    private readonly TaskCompletionSource _ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly MemoryStream _body = new();
    private int _resets;

    public Http2Stream? Stream { get; set; }

    public List<Dictionary<string, string>> Blocks { get; } = [];

    public Dictionary<string, string> Head => Blocks[0];

    /// <summary>The last block when there is more than one: the trailers.</summary>
    public Dictionary<string, string>? Trailers => Blocks.Count > 1 ? Blocks[^1] : null;

    public int Resets => Volatile.Read(ref _resets);

    public Http2ErrorCode? ResetCode { get; private set; }

    public Exception? ResetError { get; private set; }

    /// <summary>The peer ended the stream, or it was reset.</summary>
    public Task Ended => _ended.Task;

    public byte[] Body
    {
        get { lock (_body) return _body.ToArray(); }
    }

    public void OnHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream)
    {
        Stream ??= stream;
        Blocks.Add(Kit.Copy(fields));
        if (endStream)
            _ended.TrySetResult();
    }

    public void OnData(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream)
    {
        lock (_body)
        {
            foreach (var piece in data)
                _body.Write(piece.Span);
        }
        if (consume)
            stream.Consumed((int)data.Length);
        if (endStream)
            _ended.TrySetResult();
    }

    public void OnReset(Http2Stream stream, Http2ErrorCode code, Exception? error)
    {
        Stream ??= stream;
        ResetCode = code;
        ResetError = error;
        Interlocked.Increment(ref _resets);
        _ended.TrySetResult();
    }

    /// <summary>Waits, bounded, for the end of the stream.</summary>
    public Task EndedAsync() => Ended.WaitAsync(Eventually.DefaultTimeout);
}

/// <summary>
/// A server stream's owner that answers as an echo: :status 200 and x-echo ":method :path" once the request head is in,
/// each piece of request data sent back (copied in OnData, given back with Consumed once sent), then trailers
/// (x-trailer: done) when the request ends. Sends go out one after another; <see cref="Sent"/> is the last.
/// </summary>
internal sealed class EchoOwner : IHttp2StreamHandler
{
    private readonly TaskCompletionSource<Http2ErrorCode> _reset = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private bool _answered;

    public Task Sent { get; private set; } = Task.CompletedTask;

    /// <summary>Completes with the code of a reset, should one come.</summary>
    public Task<Http2ErrorCode> Reset => _reset.Task;

    public void OnHeaders(Http2Stream stream, Http2HeaderList fields, bool endStream)
    {
        if (!_answered)
        {
            _answered = true;
            var echo = $"{Encoding.ASCII.GetString(fields[":method"u8])} {Encoding.ASCII.GetString(fields[":path"u8])}";
            Then(() => stream.SendHeadersAsync(Kit.Fields((":status", "200"), ("x-echo", echo)), endStream: false).AsTask());
        }
        if (endStream)
            Then(() => stream.SendHeadersAsync(Kit.Fields(("x-trailer", "done")), endStream: true).AsTask());
    }

    public void OnData(Http2Stream stream, ReadOnlySequence<byte> data, bool endStream)
    {
        var copy = data.ToArray();
        Then(async () =>
        {
            await stream.SendDataAsync(copy, endStream: false);
            stream.Consumed(copy.Length);
        });
        if (endStream)
            Then(() => stream.SendHeadersAsync(Kit.Fields(("x-trailer", "done")), endStream: true).AsTask());
    }

    public void OnReset(Http2Stream stream, Http2ErrorCode code, Exception? error) => _reset.TrySetResult(code);

    private void Then(Func<Task> step) => Sent = After(Sent, step);

    private static async Task After(Task before, Func<Task> step)
    {
        await before;
        await step();
    }
}

internal static class Kit
{
    public static Http2HeaderList Fields(params (string Name, string Value)[] fields)
    {
        var list = new Http2HeaderList();
        foreach (var (name, value) in fields)
            list.Add(Encoding.ASCII.GetBytes(name), Encoding.ASCII.GetBytes(value));
        return list;
    }

    /// <summary>A header block as text, by name (the first of a name wins).</summary>
    public static Dictionary<string, string> Copy(Http2HeaderList fields)
    {
        var copy = new Dictionary<string, string>();
        for (var i = 0; i < fields.Count; i++)
            copy.TryAdd(Encoding.ASCII.GetString(fields.Name(i)), Encoding.ASCII.GetString(fields.Value(i)));
        return copy;
    }

    /// <summary>Bytes that differ from offset to offset, so a piece lost, doubled or moved shows.</summary>
    public static byte[] Pattern(int length, int seed = 0)
    {
        var bytes = new byte[length];
        for (var i = 0; i < length; i++)
            bytes[i] = (byte)(i * 7 + i / 251 + seed);
        return bytes;
    }

    /// <summary>Both ends of a TCP connection on 127.0.0.1.</summary>
    public static async Task<(Socket Connecting, Socket Accepted)> LoopbackPairAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connect = connecting.ConnectAsync((IPEndPoint)listener.LocalEndpoint, deadline.Token);
        var accepted = await listener.AcceptSocketAsync(deadline.Token);
        await connect;
        return (connecting, accepted);
    }
}
