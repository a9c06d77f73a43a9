using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FedMesh.Core.Transport;

// Connecting a socket on the loop (never through .NET's engine, which would register it with its own epoll too).
internal sealed partial class LoopStream
{
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
        var error = ConnectError(_fd);
        if (error != 0)
            throw Failure(error, "connecting to " + address);
    }

    /// <summary>
    /// A connect to <paramref name="address"/> whose answer is taken only if it is in as the connect returns, as a local
    /// peer's is (the kernel runs the loopback handshake on its way out): true when it was accepted, false when
    /// refused, null when still under way. The socket is closed either way, and never joins a loop (joining would wake
    /// it for the event that reports a connected socket): for a probe that needs only the answer.
    /// </summary>
    public static bool? ConnectAtOnce(IPEndPoint address)
    {
        using var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
        var fd = (int)socket.SafeHandle.DangerousGetHandle(); // the socket is this method's alone until it is closed
        var errno = Connect(fd, SocketAddressOf(address));
        if (errno != Libc.EInProgress)
            return errno == 0;
        return socket.Poll(0, SelectMode.SelectWrite) ? ConnectError(fd) == 0 : null;
    }

    /// <summary>Starts the non-blocking connect: 0 when it is done at once, else its errno (EINPROGRESS: under way).</summary>
    private int StartConnect(byte[] address)
    {
        var errno = Connect(_fd, address);
        // Added to the loop only now: epoll reports a socket that is not connecting as writable and hung up.
        _write = errno == 0 ? Ready : 0;
        _loop.Add(this, _fd);
        return errno;
    }

    /// <summary>A non-blocking connect of <paramref name="fd"/>: 0 when it is done at once, else its errno.</summary>
    private static unsafe int Connect(int fd, byte[] address)
    {
        fixed (byte* p = address)
            return Libc.Connect(fd, p, address.Length) == 0 ? 0 : Marshal.GetLastPInvokeError();
    }

    /// <summary>How a connect that was under way ended: 0 when connected, else its errno (SO_ERROR).</summary>
    private static unsafe int ConnectError(int fd)
    {
        int error = 0, length = sizeof(int);
        return Libc.GetSockOpt(fd, Libc.SolSocket, Libc.SoError, &error, &length) == 0 ? error : Marshal.GetLastPInvokeError();
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
}
