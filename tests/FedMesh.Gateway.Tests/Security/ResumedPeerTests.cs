using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using FedMesh.Core.Identity;
using FedMesh.Gateway.Security;
using FedMesh.Gateway.Tests.Fakes;
using FedMesh.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.Gateway.Tests.Security;

/// <summary>
/// The gateway's listener resumes sessions, and a resumed connection's peer is checked and recorded in full:
/// admitted with its own identity when linked, refused as before otherwise. Resumption is read off the wire.
/// </summary>
public sealed class ResumedPeerTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    // A DNS-style Host: the handler makes it the TLS name, under which the client keeps its session.
    private const string Host = "echo.default";

    private static HttpClient Client(WorkloadIdentity identity, IPEndPoint via, bool trustAnyServer = false)
    {
        var ssl = identity.ClientOptions(GatewayFixture.GatewayIdentity);
        if (trustAnyServer)
            ssl.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        return new HttpClient(new SocketsHttpHandler { SslOptions = ssl, UseProxy = false })
        {
            BaseAddress = new Uri($"https://{via}"),
            Timeout = TimeSpan.FromSeconds(15),
        };
    }

    /// <summary>Two requests, each on a new connection (a new client), through a tap in front of the gateway.</summary>
    private async Task<(HttpResponseMessage First, HttpResponseMessage Second, TlsHellos Hello)> TwiceAsync(WorkloadIdentity identity, bool trustAnyServer = false)
    {
        await using var tap = new TlsHelloTap(fixture.Gateway.ListenEndpoint);
        HttpResponseMessage first, second;
        using (var client = Client(identity, tap.Endpoint, trustAnyServer))
            first = await client.SendAsync(GatewayFixture.Request(Host, HttpVersion.Version11));
        using (var client = Client(identity, tap.Endpoint, trustAnyServer))
            second = await client.SendAsync(GatewayFixture.Request(Host, HttpVersion.Version11));
        var hellos = tap.Handshakes;
        Assert.Equal(2, hellos.Count);
        Assert.True(hellos[1].Tls13);
        Assert.True(hellos[1].Resumed, "the second connection resumed the first one's session");
        return (first, second, hellos[1]);
    }

    [Fact]
    public async Task ResumedConnection_FromLinkedPeer_IsAdmittedAndCarriedOnAsCaller()
    {
        using var caller = WorkloadIdentity.FromIssuer(fixture.EastIssuer, new SpiffeId(GatewayFixture.TrustDomain, "east", "default", "resumer"), TimeSpan.FromHours(1));

        var (first, second, _) = await TwiceAsync(caller);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var seen = await GatewayFixture.ReadSeen(second);
        Assert.Equal([caller.Id.ToString()], seen!.Caller);
    }

    [Fact]
    public async Task ResumedConnection_FromUnlinkedPeer_StillGets403()
    {
        using var caller = WorkloadIdentity.FromIssuer(fixture.NorthIssuer, new SpiffeId(GatewayFixture.TrustDomain, "north", "default", "resumer"), TimeSpan.FromHours(1));
        var hits = fixture.Backend.Hits;

        var (_, second, _) = await TwiceAsync(caller);

        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Contains("cluster 'north'", await second.Content.ReadAsStringAsync());
        Assert.Equal(hits, fixture.Backend.Hits);
    }

    [Fact]
    public async Task ResumedConnection_FromAnotherTrustAnchor_StillGets403()
    {
        // Refused above TLS, so its first handshake completes and leaves a ticket to resume with.
        using var caller = WorkloadIdentity.FromIssuer(fixture.ForeignIssuer, new SpiffeId(GatewayFixture.TrustDomain, "east", "default", "resumer"), TimeSpan.FromHours(1));

        var (_, second, _) = await TwiceAsync(caller, trustAnyServer: true);

        Assert.Equal(HttpStatusCode.Forbidden, second.StatusCode);
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", await second.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ConnectionPeer_ResumedSessionAfterAnchorsRotated_RecordsTheRefusal()
    {
        using var root = CertificateAuthority.CreateRoot(GatewayFixture.TrustDomain, TimeProvider.System);
        using var west = root.CreateIntermediate("west");
        using var east = root.CreateIntermediate("east");
        using var newRoot = CertificateAuthority.CreateRoot(GatewayFixture.TrustDomain, TimeProvider.System);
        using var gateway = WorkloadIdentity.FromIssuer(west, SpiffeId.Parse(GatewayFixture.GatewayIdentity), TimeSpan.FromHours(1));
        using var caller = WorkloadIdentity.FromIssuer(east, new SpiffeId(GatewayFixture.TrustDomain, "east", "default", "client"), TimeSpan.FromHours(1));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var tap = new TlsHelloTap((IPEndPoint)listener.LocalEndpoint);

        var before = await HandshakeAsync(listener, tap, gateway, caller, gateway.Anchors);
        var after = await HandshakeAsync(listener, tap, gateway, caller, [newRoot.Certificate]);

        Assert.Equal(caller.Id, before.Id);
        Assert.True(tap.Handshakes[1].Resumed);
        Assert.Null(after.Id);
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", after.Error);
        Assert.Contains("client certificate refused", System.Text.Encoding.UTF8.GetString(after.RefusalBody));
    }

    // One connection whose server side records its peer with a ConnectionPeer checking against anchors.
    private static async Task<ConnectionPeer> HandshakeAsync(TcpListener listener, TlsHelloTap tap, WorkloadIdentity gateway,
        WorkloadIdentity caller, IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> anchors)
    {
        var peer = new ConnectionPeer(anchors, gateway.LearnedIntermediates, TimeProvider.System, NullLogger.Instance, "test");
        var serve = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(socket.GetStream());
            var options = gateway.ServerOptions();
            options.RemoteCertificateValidationCallback = peer.Validate;
            await tls.AuthenticateAsServerAsync(options);
            await tls.WriteAsync(new byte[] { 1 });
            await tls.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false);
        });
        using (var connection = new TcpClient())
        {
            await connection.ConnectAsync(tap.Endpoint);
            await using var tls = new SslStream(connection.GetStream());
            var options = caller.ClientOptions(GatewayFixture.GatewayIdentity);
            options.TargetHost = "gateway.test";
            await tls.AuthenticateAsClientAsync(options).WaitAsync(TimeSpan.FromSeconds(10));
            await tls.ReadExactlyAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // takes the ticket in
        }
        await serve.WaitAsync(TimeSpan.FromSeconds(10));
        return peer;
    }
}
