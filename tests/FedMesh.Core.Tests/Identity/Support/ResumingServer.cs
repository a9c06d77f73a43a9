using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Identity;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Identity.Support;

/// <summary>What the server's validation callback was shown and what it concluded.</summary>
/// <param name="LeafOnly">The callback got the client's leaf and nothing else (a resumed session).</param>
internal sealed record ServerSeen(bool LeafOnly, SpiffeId? Id, string? Error);

/// <summary>
/// An mTLS server on 127.0.0.1 with a <see cref="WorkloadIdentity"/>'s server options, validating clients with
/// <see cref="PeerCertificateValidator"/> against anchors and a clock the test may change between connections.
/// </summary>
internal sealed class ResumingServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ServerSeen> _seen = new();
    private readonly Task _accepting;

    public ResumingServer(WorkloadIdentity identity, TimeProvider? time = null)
    {
        Identity = identity;
        Anchors = identity.Anchors;
        Time = time ?? TimeProvider.System;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    /// <summary>The identity presented; swap it for a renewed one between connections.</summary>
    public WorkloadIdentity Identity { get; set; }

    /// <summary>The anchors clients are checked against; swap them to rotate.</summary>
    public IReadOnlyList<X509Certificate2> Anchors { get; set; }

    public TimeProvider Time { get; }

    public IPEndPoint Endpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>One entry per validation callback, in order.</summary>
    public IReadOnlyList<ServerSeen> Seen => [.. _seen];

    /// <summary>
    /// Opens one direct-path connection the way the proxy does (<see cref="MeshClient"/>, the identity pinned) to
    /// <paramref name="target"/>, waits for the server's verdict on it, and closes it.
    /// </summary>
    public async Task<ServerSeen> ConnectAsync(WorkloadIdentity client, string? expected, IPEndPoint target)
    {
        var before = _seen.Count;
        using var mesh = PeerHandler.CreateClient(client.ClientOptions(expected), TimeSpan.FromSeconds(5), null,
            DistributedContextPropagator.CreateDefaultPropagator(), TimeProvider.System, expected);
        var pool = mesh.PoolFor($"https://{target}");
        try
        {
            var connection = await pool.ConnectAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            try
            {
                // TLS 1.3 tickets follow the handshake: the client takes them in with the first bytes it reads, as
                // a response would bring them.
                await connection.Stream.ReadExactlyAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            }
            finally
            {
                pool.Close(connection);
            }
        }
        catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
        {
            // A refused client may learn it only now; the server's verdict below is what the test reads.
        }
        await Eventually.TrueAsync(() => _seen.Count != before, "the server to validate the connection");
        return Seen[before];
    }

    private async Task AcceptAsync()
    {
        while (true)
        {
            TcpClient socket;
            try
            {
                socket = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(TcpClient socket)
    {
        using (socket)
        {
            var options = Identity.ServerOptions();
            options.RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
            {
                var leafOnly = chain is not null && chain.ChainElements.Count == 1 && chain.ChainPolicy.ExtraStore.Count == 0;
                var id = PeerCertificateValidator.Validate(certificate as X509Certificate2, chain, Anchors, Time,
                    Identity.LearnedIntermediates, out var error);
                _seen.Enqueue(new ServerSeen(leafOnly, id, error));
                return id is not null;
            };
            await using var tls = new SslStream(socket.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(options, _stop.Token);
                await tls.WriteAsync(new byte[] { 1 }, _stop.Token);
                // Held open until the client closes, as a listener holds a pooled connection.
                await tls.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false, _stop.Token);
            }
            catch (Exception)
            {
                // Refused or closed: the verdict is already recorded.
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}
