using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FedMesh.Tests.Shared;

/// <summary>What one connection's plaintext hellos said.</summary>
/// <param name="ServerName">The SNI the client sent, or null.</param>
/// <param name="Offered">The ClientHello carried a pre_shared_key: the client offered a session to resume.</param>
/// <param name="Resumed">The ServerHello carried a pre_shared_key: the server accepted it (no certificate sent).</param>
/// <param name="Tls13">The ServerHello selected TLS 1.3, the version whose pre_shared_key these flags read.</param>
internal sealed record TlsHellos(string? ServerName, bool Offered, bool Resumed, bool Tls13);

/// <summary>
/// A loopback TCP relay in front of a TLS listener that reads each connection's ClientHello and ServerHello, which
/// TLS 1.3 sends in the clear: whether a session was offered and whether it was resumed is then read off the wire,
/// not inferred from timing or from what the endpoints report. The hellos are recorded before they are passed on,
/// so once a handshake through the tap has completed, its entry is there.
/// </summary>
internal sealed class TlsHelloTap : IAsyncDisposable
{
    private const byte HandshakeRecord = 22;
    private const byte ClientHello = 1;
    private const byte ServerHello = 2;
    private const ushort ServerNameExtension = 0;
    private const ushort SupportedVersionsExtension = 43;
    private const ushort PreSharedKeyExtension = 41;
    private const int MaxHello = 64 * 1024;

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Connection> _connections = new();
    private readonly Task _accepting;

    public TlsHelloTap(IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>Where clients connect instead of the upstream.</summary>
    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>The hellos of every connection whose ServerHello has passed, in the order they arrived.</summary>
    public IReadOnlyList<TlsHellos> Handshakes =>
        [.. _connections.Where(c => c.Result is not null).Select(c => c.Result!)];

    /// <summary>Closes every relayed connection, as a restart or an idle timeout of something in between would.</summary>
    public void CloseAll()
    {
        foreach (var connection in _connections)
            connection.Close();
    }

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
            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(_upstream, _stop.Token);
            }
            catch (Exception)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            var connection = new Connection(client, upstream);
            _connections.Enqueue(connection);
            _ = connection.RunAsync(_stop.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        CloseAll();
        _stop.Dispose();
    }

    private sealed class Connection(TcpClient client, TcpClient upstream)
    {
        private string? _serverName;
        private bool _offered;

        public TlsHellos? Result { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var up = Pump(client.GetStream(), upstream.GetStream(), ClientHello, cancellationToken);
            var down = Pump(upstream.GetStream(), client.GetStream(), ServerHello, cancellationToken);
            await Task.WhenAny(up, down);
            Close();
        }

        public void Close()
        {
            client.Dispose();
            upstream.Dispose();
        }

        private async Task Pump(NetworkStream from, NetworkStream to, byte helloType, CancellationToken cancellationToken)
        {
            var buffer = new byte[16 * 1024];
            var hello = new MemoryStream();
            var parsed = false;
            try
            {
                while (true)
                {
                    var read = await from.ReadAsync(buffer, cancellationToken);
                    if (read == 0)
                        return;
                    if (!parsed && hello.Length < MaxHello)
                    {
                        hello.Write(buffer, 0, read);
                        parsed = TryRead(hello.GetBuffer().AsSpan(0, (int)hello.Length), helloType);
                    }
                    await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }
            catch (Exception)
            {
                // A side closed or reset, or the tap is stopping: the relay ends either way. A hello that did not
                // parse leaves no entry, which the test asserting on it reports.
            }
        }

        // Reassembles the first handshake message from its records; true once it was complete and has been read.
        private bool TryRead(ReadOnlySpan<byte> wire, byte helloType)
        {
            var message = new List<byte>();
            while (wire.Length >= 5 && wire[0] == HandshakeRecord)
            {
                var length = BinaryPrimitives.ReadUInt16BigEndian(wire[3..]);
                if (wire.Length < 5 + length)
                    return false;
                message.AddRange(wire.Slice(5, length));
                wire = wire[(5 + length)..];
                if (message.Count >= 4 && message.Count >= 4 + ((message[1] << 16) | (message[2] << 8) | message[3]))
                {
                    if (message[0] != helloType)
                        throw new InvalidDataException($"expected handshake message {helloType}, got {message[0]}");
                    Read([.. message.Skip(4)], helloType);
                    return true;
                }
            }
            return false;
        }

        private void Read(ReadOnlySpan<byte> body, byte helloType)
        {
            var at = 2 + 32; // legacy_version, random
            at += 1 + body[at]; // legacy_session_id
            if (helloType == ClientHello)
            {
                at += 2 + BinaryPrimitives.ReadUInt16BigEndian(body[at..]); // cipher_suites
                at += 1 + body[at]; // legacy_compression_methods
            }
            else
            {
                at += 2 + 1; // cipher_suite, legacy_compression_method
            }
            var end = at + 2 + BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
            at += 2;
            bool psk = false, tls13 = false;
            string? serverName = null;
            while (at + 4 <= end)
            {
                var type = BinaryPrimitives.ReadUInt16BigEndian(body[at..]);
                var length = BinaryPrimitives.ReadUInt16BigEndian(body[(at + 2)..]);
                var data = body.Slice(at + 4, length);
                psk |= type == PreSharedKeyExtension;
                if (type == SupportedVersionsExtension && helloType == ServerHello)
                    tls13 = BinaryPrimitives.ReadUInt16BigEndian(data) == 0x0304;
                if (type == ServerNameExtension && helloType == ClientHello)
                    serverName = Encoding.ASCII.GetString(data.Slice(5, BinaryPrimitives.ReadUInt16BigEndian(data[3..])));
                at += 4 + length;
            }
            if (helloType == ClientHello)
            {
                _serverName = serverName;
                _offered = psk;
            }
            else
            {
                Result = new TlsHellos(_serverName, _offered, psk, tls13);
            }
        }
    }
}
