using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FedMesh.Core.Transport;

/// <summary>
/// A connected socket's stream on the <see cref="SocketLoop"/>: reads and writes are the kernel's <c>recv</c> and
/// <c>send</c>, made at once while the last event says the socket is ready, and otherwise left waiting for the loop.
/// <para>
/// Each direction keeps one word: ready (the socket may have data, or room), a read or write waiting, and a count of
/// events. A read that comes back short, or finds nothing, marks the socket not ready unless an event came meanwhile
/// (the count changed); the loop marks it ready on the next event and completes what waits. So, as in nginx, a read
/// after a short read costs no system call until data comes. One read and one write may run at once (as a socket
/// stream allows); a zero-byte read waits for data without taking any.
/// </para>
/// <para>
/// The stream owns its socket. Shutting the socket down (any thread) ends what waits (a read returns 0, a write fails);
/// <see cref="EndReading"/> ends the reads alone, in user space; disposing takes it out of the loop, fails what waits,
/// then closes it. Every system call holds the socket's handle,
/// so a closed descriptor is never used (its number may already be another socket's). Connecting: LoopStream.Connect.cs;
/// TLS handshakes, kept off the loop's thread: LoopStream.Handshake.cs.
/// </para>
/// </summary>
internal sealed partial class LoopStream : Stream
{
    private const int Ready = 1;
    private const int Waiting = 2;
    private const int Ended = 4; // the peer's FIN, a hang-up or an error came: ready for good, no edge follows
    private const int Event = 8;
    private const int EBadF = 9;

    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly int _fd;
    private readonly SocketLoop _loop;
    private readonly Operation _reading;
    private readonly Operation _writing;
    private int _read; // not ready until an event says so: adding a socket to epoll reports the data already there
    private int _write = Ready;
    private int _disposed;
    private int _readEnded; // ended from this side (EndReading): every read returns 0, without a system call
    private readonly bool _client; // opened by this process: a read that waits expects an answer (BusyPolling)

    internal bool Disposed => Volatile.Read(ref _disposed) != 0;

    internal bool ReadEnded => Volatile.Read(ref _readEnded) != 0;

    /// <summary>The stream's place in its loop (set by <see cref="SocketLoop.Add"/>).</summary>
    internal int Slot;
    internal uint Generation;

    private LoopStream(Socket socket, SocketLoop loop, bool connected)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _fd = (int)_handle.DangerousGetHandle();
        _loop = loop;
        _reading = new Operation(this, read: true);
        _writing = new Operation(this, read: false);
        socket.Blocking = false;
        _client = !connected;
        if (connected)
            loop.Add(this, _fd);
    }

    /// <summary>
    /// A stream for <paramref name="socket"/> (connected, and never used for .NET's own asynchronous operations, which
    /// would register it with .NET's engine too): on the loop where there is one, else a <see cref="NetworkStream"/>.
    /// </summary>
    public static Stream For(Socket socket) =>
        SocketLoop.Next() is { } loop ? new LoopStream(socket, loop, connected: true) : new NetworkStream(socket, ownsSocket: true);

    public Socket Socket => _socket;

    /// <summary>The loop the stream's socket is on.</summary>
    internal SocketLoop Loop => _loop;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled<int>(cancellationToken);
        while (true)
        {
            if (ReadEnded)
                return new ValueTask<int>(0);
            var state = Volatile.Read(ref _read);
            if ((state & Ready) == 0)
            {
                if (_reading.TryWait(ref _read, state, buffer, cancellationToken, out var waiting))
                    return new ValueTask<int>(_reading, waiting);
                continue; // an event came: try again
            }
            if (buffer.IsEmpty)
                return new ValueTask<int>(0);
            var read = Receive(buffer.Span, out var errno);
            if (read >= 0)
            {
                if (read < buffer.Length && read > 0)
                    NotReady(ref _read, state); // drained, unless an event came since
                return new ValueTask<int>((int)read);
            }
            if (errno == Libc.EAgain && (state & Ended) == 0)
                NotReady(ref _read, state);
            else if (errno != Libc.EIntr)
                return ValueTask.FromException<int>(Failure(errno, "reading")); // (EAGAIN after the end: no event will follow)
        }
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (cancellationToken.IsCancellationRequested)
            return ValueTask.FromCanceled(cancellationToken);
        while (!buffer.IsEmpty)
        {
            var state = Volatile.Read(ref _write);
            if ((state & Ready) == 0)
            {
                if (_writing.TryWait(ref _write, state, MemoryMarshal.AsMemory(buffer), cancellationToken, out var waiting))
                    return new ValueTask(_writing, waiting);
                continue;
            }
            var sent = SendSome(buffer.Span, out var errno);
            if (sent >= 0)
                buffer = buffer[(int)sent..];
            else if (errno == Libc.EAgain && (state & Ended) == 0)
                NotReady(ref _write, state);
            else if (errno != Libc.EIntr)
                return ValueTask.FromException(Failure(errno, "writing"));
        }
        return default;
    }

    /// <summary>
    /// The first bytes waiting in the socket, left there (MSG_PEEK); -1 when none have come yet, and the socket is then
    /// marked not ready, so a zero-byte read waits for them.
    /// </summary>
    public int Peek(Span<byte> buffer)
    {
        while (true)
        {
            var state = Volatile.Read(ref _read);
            var read = Receive(buffer, out var errno, Libc.MsgPeek);
            if (read >= 0)
                return (int)read;
            if (errno == Libc.EAgain && (state & Ended) == 0)
            {
                NotReady(ref _read, state);
                return -1;
            }
            if (errno != Libc.EIntr)
                throw Failure(errno, "reading");
        }
    }

    /// <summary>
    /// For a listening socket's stream: a connection waiting to be accepted, or null when there is none, the socket then
    /// marked not ready (as by a read that finds nothing) so that a zero-byte read waits for the next one.
    /// <paramref name="signalled"/>: the loop has just reported the socket readable, so a connection is almost surely
    /// there and is accepted at once; otherwise a zero-timeout poll asks first (a refused accept costs an exception).
    /// </summary>
    public Socket? TryAccept(bool signalled = false)
    {
        while (true)
        {
            var state = Volatile.Read(ref _read);
            if (signalled || _socket.Poll(0, SelectMode.SelectRead))
            {
                try
                {
                    return _socket.Accept();
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
                {
                    signalled = false;
                    continue; // reset by its client while it waited: the next one, if any (no new event would say so)
                }
                catch (SocketException e) when (signalled && e.SocketErrorCode == SocketError.WouldBlock)
                {
                    // None after all: not ready, as below.
                }
            }
            NotReady(ref _read, state);
            return null;
        }
    }

    /// <summary>
    /// Ends reading from this side, as the peer's FIN would: a waiting read, and every read after, returns 0, without a
    /// system call. For an owner that closes the connection itself, so that its receive loop ends as at the end of the
    /// stream, without the round through the kernel that shutting the socket down and waiting for the event costs.
    /// </summary>
    public void EndReading()
    {
        if (Interlocked.Exchange(ref _readEnded, 1) == 0 && Signal(ref _read, Ended))
            _reading.Complete();
    }

    /// <summary>
    /// Takes the socket out of the loop and gives it back, open, for .NET's own operations (nothing may be waiting
    /// here); the stream is done with.
    /// </summary>
    public Socket Detach()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            throw new ObjectDisposedException(nameof(LoopStream));
        LeaveLoop();
        return _socket;
    }

    /// <summary>Takes the socket out of the loop while its descriptor is still open (a closed one left epoll by itself).</summary>
    private void LeaveLoop()
    {
        if (!Hold(out _))
            return;
        try
        {
            _loop.Remove(this, _fd);
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>From the loop: what the socket is ready for now. Marks it so, and completes what waited for it.</summary>
    internal void OnEvents(uint events)
    {
        var ended = (events & (Libc.EpollHup | Libc.EpollErr)) != 0 ? Ended : 0;
        if ((events & (Libc.EpollIn | Libc.EpollRdHup)) != 0 || ended != 0)
        {
            if (Signal(ref _read, ended | ((events & Libc.EpollRdHup) != 0 ? Ended : 0)))
                _reading.Complete();
        }
        if (((events & Libc.EpollOut) != 0 || ended != 0) && Signal(ref _write, ended))
            _writing.Complete();
    }

    /// <summary>
    /// Marks a direction ready (counting the event, and keeping <paramref name="ended"/>); true when this took a waiting
    /// operation, to complete.
    /// </summary>
    private static bool Signal(ref int word, int ended = 0)
    {
        while (true)
        {
            var state = Volatile.Read(ref word);
            if (Interlocked.CompareExchange(ref word, ((state + Event) | Ready | ended) & ~Waiting, state) == state)
                return (state & Waiting) != 0;
        }
    }

    /// <summary>
    /// Marks a direction not ready after a short or empty read or a full send, if its word is still
    /// <paramref name="state"/> (an event since means it may be ready again) and the peer has not ended it.
    /// </summary>
    private static void NotReady(ref int word, int state)
    {
        if ((state & Ended) == 0)
            Interlocked.CompareExchange(ref word, state & ~Ready, state);
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing || Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        // The descriptor is this stream's alone: closing it below takes it out of epoll, so only the loop's slot is let go.
        _loop.Forget(this);
        // What still waits fails now (the loop will not see this socket again).
        if (Signal(ref _read, Ended))
            _reading.Complete();
        if (Signal(ref _write, Ended))
            _writing.Complete();
        _socket.Dispose();
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    public override void Flush() { }
    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
