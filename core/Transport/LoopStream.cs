using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

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
/// The stream owns its socket. <see cref="Abort"/> (any thread) shuts it down, which ends what waits (a read returns 0,
/// a write fails); disposing takes it out of the loop, fails what waits, then closes it. Every system call holds the socket's handle, so a closed descriptor is never
/// used (its number may already be another socket's).
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
        if (connected)
            loop.Add(this, _fd);
    }

    /// <summary>
    /// A stream for <paramref name="socket"/> (connected, and never used for .NET's own asynchronous operations, which
    /// would register it with .NET's engine too): on the loop where there is one, else a <see cref="NetworkStream"/>.
    /// </summary>
    public static Stream For(Socket socket) =>
        SocketLoop.Next() is { } loop ? new LoopStream(socket, loop, connected: true) : new NetworkStream(socket, ownsSocket: true);

    /// <summary>
    /// Connects to the first of <paramref name="host"/>'s addresses (a literal address, or what DNS gives) that answers
    /// on <paramref name="port"/>, as .NET's connect to a host name does, and returns the socket's stream.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host, out var ip) ? [ip] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
            throw new SocketException((int)SocketError.HostNotFound, $"{host} has no address");
        for (var i = 0; ; i++)
        {
            try
            {
                return await ConnectAsync(new IPEndPoint(addresses[i], port), cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException) when (i < addresses.Length - 1)
            {
                // the next address
            }
        }
    }

    /// <summary>
    /// Connects a new TCP socket to <paramref name="address"/> without .NET's engine and returns its stream (see
    /// <see cref="For"/>); where there is no loop, .NET's connect and a <see cref="NetworkStream"/>.
    /// </summary>
    public static async ValueTask<Stream> ConnectAsync(IPEndPoint address, CancellationToken cancellationToken)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (SocketLoop.Next() is not { } loop)
            {
                await socket.ConnectAsync(address, cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            var stream = new LoopStream(socket, loop, connected: false);
            try
            {
                await stream.ConnectToAsync(address, cancellationToken).ConfigureAwait(false);
                return stream;
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async ValueTask ConnectToAsync(IPEndPoint address, CancellationToken cancellationToken)
    {
        var errno = StartConnect(SocketAddressOf(address));
        if (errno == 0)
            return;
        if (errno != Libc.EInProgress)
            throw Failure(errno, "connecting to " + address);
        // Connecting: the socket turns writable when that is over, either way; SO_ERROR says which.
        while (true)
        {
            var state = Volatile.Read(ref _write);
            if ((state & Ready) != 0)
                break;
            if (_writing.TryWait(ref _write, state, Memory<byte>.Empty, cancellationToken, out var waiting))
            {
                await new ValueTask(_writing, waiting).ConfigureAwait(false);
                break;
            }
        }
        var error = ConnectError();
        if (error != 0)
            throw Failure(error, "connecting to " + address);
    }

    /// <summary>Starts the non-blocking connect: 0 when it is done at once, else its errno (EINPROGRESS: under way).</summary>
    private unsafe int StartConnect(byte[] address)
    {
        int result, errno;
        fixed (byte* p = address)
        {
            result = Libc.Connect(_fd, p, address.Length);
            errno = result < 0 ? Marshal.GetLastPInvokeError() : 0;
        }
        // Added to the loop only now: epoll reports a socket that is not connecting as writable and hung up.
        _write = result == 0 ? Ready : 0;
        _loop.Add(this, _fd);
        return errno;
    }

    private unsafe int ConnectError()
    {
        int error = 0, length = sizeof(int);
        return Libc.GetSockOpt(_fd, Libc.SolSocket, Libc.SoError, &error, &length) == 0 ? error : Marshal.GetLastPInvokeError();
    }

    /// <summary>The kernel's sockaddr_in or sockaddr_in6 for <paramref name="address"/>.</summary>
    private static byte[] SocketAddressOf(IPEndPoint address)
    {
        var v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
        var raw = new byte[v6 ? 28 : 16];
        BitConverter.TryWriteBytes(raw.AsSpan(0, 2), (ushort)(v6 ? 10 : 2)); // AF_INET6 / AF_INET, host order
        raw[2] = (byte)(address.Port >> 8);
        raw[3] = (byte)address.Port;
        if (v6)
        {
            address.Address.TryWriteBytes(raw.AsSpan(8, 16), out _);
            BitConverter.TryWriteBytes(raw.AsSpan(24, 4), (uint)address.Address.ScopeId);
        }
        else
            address.Address.TryWriteBytes(raw.AsSpan(4, 4), out _);
        return raw;
    }

    public Socket Socket => _socket;

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
    /// Takes the socket out of the loop and gives it back, open, for .NET's own operations (nothing may be waiting
    /// here); the stream is done with.
    /// </summary>
    public Socket Detach()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            throw new ObjectDisposedException(nameof(LoopStream));
        if (Hold(out _))
        {
            _loop.Remove(this, _fd);
            _handle.DangerousRelease();
        }
        return _socket;
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

    internal unsafe nint Receive(Span<byte> buffer, out int errno, int flags = 0)
    {
        if (!Hold(out errno))
            return -1;
        try
        {
            fixed (byte* p = buffer)
            {
                var read = Libc.Recv(_fd, p, buffer.Length, flags);
                errno = read < 0 ? Marshal.GetLastPInvokeError() : 0;
                return read;
            }
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    internal unsafe nint SendSome(ReadOnlySpan<byte> buffer, out int errno)
    {
        if (!Hold(out errno))
            return -1;
        try
        {
            fixed (byte* p = buffer)
            {
                var sent = Libc.Send(_fd, p, buffer.Length, Libc.MsgNoSignal);
                errno = sent < 0 ? Marshal.GetLastPInvokeError() : 0;
                return sent;
            }
        }
        finally
        {
            _handle.DangerousRelease();
        }
    }

    /// <summary>
    /// Holds the socket's handle for one system call (released by the caller), so the descriptor cannot be closed, and
    /// its number given to another socket, meanwhile; false (EBADF) once the socket is closed.
    /// </summary>
    private bool Hold(out int errno)
    {
        var held = false;
        try
        {
            _handle.DangerousAddRef(ref held);
        }
        catch (ObjectDisposedException)
        {
        }
        errno = held ? 0 : EBadF;
        return held;
    }

    internal bool Disposed => Volatile.Read(ref _disposed) != 0;


    internal Exception Failure(int errno, string what)
    {
        if (errno == EBadF || Volatile.Read(ref _disposed) != 0)
            return new ObjectDisposedException(nameof(LoopStream), $"{what}: the connection is closed");
        var error = errno switch
        {
            32 => SocketError.Shutdown, // EPIPE
            104 => SocketError.ConnectionReset,
            110 => SocketError.TimedOut,
            111 => SocketError.ConnectionRefused,
            113 => SocketError.HostUnreachable,
            101 => SocketError.NetworkUnreachable,
            103 => SocketError.ConnectionAborted,
            _ => SocketError.SocketError,
        };
        var socket = new SocketException((int)error, $"{what}: {Marshal.GetPInvokeErrorMessage(errno)}");
        // As .NET's socket streams: a connect fails with the SocketException, a read or write with an IOException around it.
        return what.StartsWith("connecting", StringComparison.Ordinal) ? socket : new IOException(socket.Message, socket);
    }

    /// <summary>Shuts the socket down (any thread): the peer sees the end, and what waits here ends (a read with 0).</summary>
    public void Abort()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing || Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        var held = false;
        try
        {
            _handle.DangerousAddRef(ref held);
            _loop.Remove(this, _fd);
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            if (held)
                _handle.DangerousRelease();
        }
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
