using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FedMesh.Core.Transport;

// The system calls on the socket, each holding its handle, and what their errors become.
internal sealed partial class LoopStream
{
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
}
