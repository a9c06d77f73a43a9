using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;

namespace FedMesh.Core.Transport;

/// <summary>
/// One connection as Kestrel reads it, through a stream: the socket's own (a <see cref="LoopStream"/> on FedMesh's
/// <see cref="SocketLoop"/> where there is one), with SslStream straight over it for TLS. Input is a pipe that a
/// background loop fills with the (decrypted) bytes (so a peer that leaves is seen at once, and
/// <see cref="ConnectionClosed"/> fires, as with Kestrel's socket transport); output writes Kestrel's bytes
/// (encrypted) straight onto the socket (<see cref="OutputPipeWriter"/>).
/// </summary>
internal sealed partial class StreamConnection : ConnectionContext, IDuplexPipe
{
    private static readonly TimeSpan CloseNotifyTimeout = TimeSpan.FromSeconds(1);
    private static long _lastId;
    // As Kestrel's socket transport: never read into less than half a block.
    private const int MinRead = 2048;

    private readonly Socket _socket;
    private readonly Stream _transport; // the socket's stream (under Ssl, for TLS); owns the socket
    private readonly SslStream? _ssl;
    private readonly Stream _stream; // what is read and written: Ssl for TLS, else the socket's stream
    private readonly bool _waitForData;
    private readonly Pipe _input;
    private readonly OutputPipeWriter _output;
    private readonly CancellationTokenSource _closed = new();
    private ConnectionAbortedException? _abortReason;
    private Task _receiving = Task.CompletedTask;
    private int _socketClosed;
    private int _disposed;
    private IDictionary<object, object?>? _items;

    /// <param name="socket">The accepted socket.</param>
    /// <param name="transport">Its stream, which owns it (<see cref="LoopStream.For"/>).</param>
    /// <param name="tls">Whether the connection is TLS: <see cref="Ssl"/> then wraps the transport, and must be authenticated before <see cref="Start"/>.</param>
    /// <param name="waitForData">
    /// Wait for data with a zero-byte read before taking a buffer from the pool, so an idle connection holds none (as
    /// Kestrel's socket transport does by default, <c>WaitForDataBeforeAllocatingBuffer</c>). For a plain connection;
    /// SslStream keeps a buffer of its own whatever its caller does.
    /// </param>
    public StreamConnection(Socket socket, Stream transport, bool tls, MemoryPool<byte> pool, PipeScheduler readerScheduler, long maxReadBuffer,
        bool waitForData = false)
    {
        _waitForData = waitForData && !tls;
        _socket = socket;
        _transport = transport;
        MemoryPool = pool;
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        ConnectionId = (tls ? "tls-" : "tcp-") + Interlocked.Increment(ref _lastId).ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        _ssl = tls ? new SslStream(transport, leaveInnerStreamOpen: false) : null;
        _stream = _ssl ?? transport;
        var blockSize = pool.MaxBufferSize is > 0 and < 4096 ? pool.MaxBufferSize : 4096;
        _input = new Pipe(new PipeOptions(pool, readerScheduler, PipeScheduler.Inline,
            pauseWriterThreshold: maxReadBuffer, resumeWriterThreshold: maxReadBuffer / 2, minimumSegmentSize: blockSize, useSynchronizationContext: false));
        _output = new OutputPipeWriter(this, PipeWriter.Create(_stream, new StreamPipeWriterOptions(pool, blockSize, leaveOpen: true)));
        ConnectionClosed = _closed.Token;
        Features = CreateFeatures();
    }

    /// <summary>The TLS stream (null for a plain connection).</summary>
    public SslStream? Ssl => _ssl;

    public override string ConnectionId { get; set; }
    public override IFeatureCollection Features { get; }
    public override IDictionary<object, object?> Items
    {
        get => _items ??= new ConnectionItems(); // made when first asked for: the relay never does
        set => _items = value;
    }
    public override IDuplexPipe Transport { get; set; } = null!;
    public override CancellationToken ConnectionClosed { get; set; }
    public override EndPoint? LocalEndPoint { get; set; }
    public override EndPoint? RemoteEndPoint { get; set; }

    PipeReader IDuplexPipe.Input => _input.Reader;
    PipeWriter IDuplexPipe.Output => _output;

    /// <summary>Starts moving the bytes read into the input pipe; for TLS, called once the handshake is done.</summary>
    public void Start()
    {
        Transport = this;
        _receiving = ReceiveAsync();
    }

    private async Task ReceiveAsync()
    {
        Exception? error = null;
        var writer = _input.Writer;
        try
        {
            while (true)
            {
                if (_waitForData)
                    await _stream.ReadAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
                var read = await _stream.ReadAsync(writer.GetMemory(MinRead), CancellationToken.None).ConfigureAwait(false);
                if (read == 0)
                    break; // FIN or close_notify
                writer.Advance(read);
                var flushed = await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                    break; // Kestrel stopped reading
            }
        }
        catch (Exception e)
        {
            error = Volatile.Read(ref _abortReason) ?? (Exception)new ConnectionResetException(e.Message, e);
        }
        finally
        {
            await writer.CompleteAsync(error).ConfigureAwait(false);
            if (Volatile.Read(ref _disposed) != 0)
                _closed.Cancel(); // ended by the owner's disposal: nothing of the connection still runs, so nothing to abort
            else // Off this thread: the callbacks abort requests (RequestAborted), and the loop must not run them inline.
                ThreadPool.UnsafeQueueUserWorkItem(static closed => closed.Cancel(), _closed, preferLocal: false);
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        Interlocked.CompareExchange(ref _abortReason, abortReason, null);
        CloseSocket();
    }

    /// <summary>A write failed: the peer is gone. Ends the connection as an abort would.</summary>
    internal void OnWriteFailed(Exception error) => Abort(new ConnectionAbortedException("writing to the connection failed: " + error.Message, error));

    /// <summary>
    /// Sends the FIN and closes the socket, once; a receive still waiting sees the end of the stream, or fails.
    /// <paramref name="shutDown"/> false: no receive waits any more, and the close alone sends the FIN.
    /// </summary>
    private void CloseSocket(bool shutDown = true)
    {
        if (Interlocked.Exchange(ref _socketClosed, 1) != 0)
            return;
        try
        {
            if (shutDown)
                _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
        _transport.Dispose();
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        _output.Complete();
        _input.Reader.Complete();
        if (_ssl is { IsAuthenticated: true } ssl && Volatile.Read(ref _abortReason) is null && Volatile.Read(ref _socketClosed) == 0)
            await SendCloseNotifyAsync(ssl).ConfigureAwait(false);
        // On FedMesh's loop a receive still waiting ends as at the end of the stream, in user space, and the descriptor
        // closes after it (closing it first would fail the receive with an exception, for every connection closed from
        // this side; shutting the socket down would cost a wake-up of the loop and two system calls more). The close
        // sends the FIN. Elsewhere the close itself ends the receive.
        if (_transport is LoopStream loop)
        {
            loop.EndReading();
            await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            CloseSocket(shutDown: false);
        }
        else
        {
            CloseSocket();
            await _receiving.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
        await _stream.DisposeAsync().ConfigureAwait(false);
        // _closed is not disposed: its Cancel may still be queued, and a token source without a timer holds nothing.
    }

    /// <summary>Best effort: a peer that does not read for a second gets the FIN without it.</summary>
    private async Task SendCloseNotifyAsync(SslStream ssl)
    {
        Task shutdown;
        try
        {
            shutdown = ssl.ShutdownAsync();
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or NotSupportedException or ObjectDisposedException)
        {
            return;
        }
        if (!shutdown.IsCompleted)
        {
            await Task.WhenAny(shutdown, Task.Delay(CloseNotifyTimeout)).ConfigureAwait(false);
            CloseSocket();
        }
        await shutdown.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}
