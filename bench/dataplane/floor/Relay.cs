using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FedMesh.Bench.Floor;

/// <summary>The probe's one thread: accepts, reads whichever side is ready, and passes whole messages across.</summary>
internal sealed unsafe class Relay(nint tls, IPEndPoint upstream, string serverName)
{
    private const int BufferSize = 16 * 1024;
    private readonly Side?[] _byFd = new Side?[1 << 16];
    private int _epoll;

    /// <summary>One socket of a pair, with the bytes read from it and not yet passed on.</summary>
    private sealed class Side(Socket socket, nint ssl)
    {
        public readonly Socket Socket = socket;
        public readonly int Fd = (int)socket.Handle;
        public readonly nint Ssl = ssl; // 0 on the client's side
        public readonly byte[] Buffer = new byte[BufferSize];
        public int Length;
        public Side Peer = null!;
    }

    public void Run(IPEndPoint listen)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(listen);
        listener.Listen(512);
        listener.Blocking = false;
        _epoll = Libc.EpollCreate(0);
        if (_epoll < 0)
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        var listenFd = (int)listener.Handle;
        Watch(listenFd);
        Console.WriteLine($"floor: listening on {listen}, relaying to {upstream} ({serverName})");
        var events = stackalloc Libc.EpollEvent[256];
        while (true)
        {
            var n = Libc.EpollWait(_epoll, events, 256, -1);
            if (n < 0)
                continue; // EINTR
            for (var i = 0; i < n; i++)
            {
                var fd = (int)events[i].Data;
                if (fd == listenFd)
                    AcceptAll(listener);
                else if (_byFd[fd] is { } side)
                {
                    if (side.Ssl == 0)
                        FromClient(side);
                    else
                        FromUpstream(side);
                }
            }
        }
    }

    private void AcceptAll(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = listener.Accept();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                return;
            }
            client.NoDelay = true;
            var up = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            nint ssl = 0;
            try
            {
                up.Connect(upstream);
                ssl = OpenSsl.New(tls);
                OpenSsl.SetFd(ssl, (int)up.Handle);
                OpenSsl.SetHostName(ssl, serverName);
                var done = OpenSsl.Connect(ssl);
                if (done != 1)
                    throw new IOException($"TLS handshake with {upstream} failed (SSL_get_error {OpenSsl.GetError(ssl, done)})");
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
                Console.Error.WriteLine("floor: " + e.Message);
                if (ssl != 0)
                    OpenSsl.Free(ssl);
                up.Dispose();
                client.Dispose();
                continue;
            }
            client.Blocking = false;
            up.Blocking = false;
            var down = new Side(client, 0);
            var back = new Side(up, ssl) { Peer = down };
            down.Peer = back;
            _byFd[down.Fd] = down;
            _byFd[back.Fd] = back;
            Watch(down.Fd);
            Watch(back.Fd);
        }
    }

    /// <summary>Reads what the client sent; passes each whole request head upstream.</summary>
    private void FromClient(Side side)
    {
        fixed (byte* b = side.Buffer)
        {
            while (side.Length < BufferSize)
            {
                var read = Libc.Recv(side.Fd, b + side.Length, BufferSize - side.Length, 0);
                if (read > 0)
                    side.Length += (int)read;
                else if (read == 0 || Marshal.GetLastPInvokeError() != Libc.EAgain)
                {
                    Close(side);
                    return;
                }
                else
                    break;
            }
            var start = 0;
            while (true)
            {
                var end = new ReadOnlySpan<byte>(b + start, side.Length - start).IndexOf("\r\n\r\n"u8);
                if (end < 0)
                    break;
                var length = end + 4;
                if (OpenSsl.Write(side.Peer.Ssl, b + start, length) != length)
                {
                    Close(side);
                    return;
                }
                start += length;
            }
            Consume(side, b, start);
        }
    }

    /// <summary>Reads what the upstream sent; passes each whole response to the client.</summary>
    private void FromUpstream(Side side)
    {
        fixed (byte* b = side.Buffer)
        {
            while (side.Length < BufferSize)
            {
                var read = OpenSsl.Read(side.Ssl, b + side.Length, BufferSize - side.Length);
                if (read > 0)
                    side.Length += read;
                else if (OpenSsl.GetError(side.Ssl, read) == OpenSsl.ErrorWantRead)
                    break;
                else
                {
                    Close(side);
                    return;
                }
            }
            var start = 0;
            while (true)
            {
                var pending = new ReadOnlySpan<byte>(b + start, side.Length - start);
                var end = pending.IndexOf("\r\n\r\n"u8);
                if (end < 0)
                    break;
                var length = end + 4 + ContentLength(pending[..(end + 2)]);
                if (pending.Length < length)
                    break;
                if (Libc.Send(side.Peer.Fd, b + start, length, 0) != length)
                {
                    Close(side);
                    return;
                }
                start += length;
            }
            Consume(side, b, start);
        }
    }

    private static void Consume(Side side, byte* buffer, int used)
    {
        if (used == 0)
            return;
        side.Length -= used;
        System.Buffer.MemoryCopy(buffer + used, buffer, BufferSize, side.Length);
    }

    /// <summary>The Content-Length of a response head (the probe's origin always sends one).</summary>
    private static int ContentLength(ReadOnlySpan<byte> head)
    {
        var at = head.IndexOf("\r\nContent-Length:"u8);
        if (at < 0)
            return 0;
        var value = head[(at + 17)..];
        value = value[..value.IndexOf("\r\n"u8)].Trim((byte)' ');
        return int.Parse(value);
    }

    private void Watch(int fd)
    {
        var e = new Libc.EpollEvent { Events = Libc.EpollIn | Libc.EpollEdgeTriggered, Data = (ulong)fd };
        if (Libc.EpollCtl(_epoll, Libc.EpollCtlAdd, fd, &e) != 0)
            throw new InvalidOperationException($"epoll_ctl failed for fd {fd}: errno {Marshal.GetLastPInvokeError()}");
    }

    private void Close(Side side)
    {
        foreach (var s in new[] { side, side.Peer })
        {
            _byFd[s.Fd] = null;
            if (s.Ssl != 0)
                OpenSsl.Free(s.Ssl);
            s.Socket.Dispose(); // closing the descriptor also takes it out of the epoll set
        }
    }
}
