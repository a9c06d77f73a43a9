using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

public sealed class WorkloadIdentityTlsTests : IDisposable
{
    private readonly CertificateAuthority _root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, TimeProvider.System);
    private readonly CertificateAuthority _west;
    private readonly CertificateAuthority _east;

    public WorkloadIdentityTlsTests()
    {
        _west = _root.CreateIntermediate("west");
        _east = _root.CreateIntermediate("east");
    }

    [Fact]
    public async Task Handshake_ExpectedServer_BothSidesSeeVerifiableIdentities()
    {
        using var server = WorkloadIdentity.FromIssuer(_west, TestPki.Id("west", "fedmesh-system", "gateway"), TimeSpan.FromHours(1));
        using var client = WorkloadIdentity.FromIssuer(_east, TestPki.Id("east"), TimeSpan.FromHours(1));

        var seen = await Handshake(server, client, server.Id.ToString());

        Assert.Null(seen.Error);
        Assert.Equal(client.Id, seen.ClientId);
    }

    [Fact]
    public async Task Handshake_ServerIsNotTheExpectedIdentity_ClientRefuses()
    {
        using var server = WorkloadIdentity.FromIssuer(_west, TestPki.Id("west", "default", "impostor"), TimeSpan.FromHours(1));
        using var client = WorkloadIdentity.FromIssuer(_east, TestPki.Id("east"), TimeSpan.FromHours(1));

        await Assert.ThrowsAnyAsync<AuthenticationException>(
            () => Handshake(server, client, TestPki.Id("west", "fedmesh-system", "gateway").ToString()));
    }

    [Fact]
    public async Task Handshake_ServerFromAnotherAnchor_ClientRefuses()
    {
        using var otherRoot = CertificateAuthority.CreateRoot(TestPki.TrustDomain, TimeProvider.System);
        using var server = WorkloadIdentity.FromIssuer(otherRoot, TestPki.Id("west"), TimeSpan.FromHours(1));
        using var client = WorkloadIdentity.FromIssuer(_east, TestPki.Id("east"), TimeSpan.FromHours(1));

        await Assert.ThrowsAnyAsync<AuthenticationException>(() => Handshake(server, client, null));
    }

    [Fact]
    public async Task Handshake_ClientFromAnotherAnchor_PassesTlsButFailsValidation()
    {
        using var otherRoot = CertificateAuthority.CreateRoot(TestPki.TrustDomain, TimeProvider.System);
        using var server = WorkloadIdentity.FromIssuer(_west, TestPki.Id("west"), TimeSpan.FromHours(1));
        using var client = WorkloadIdentity.FromIssuer(otherRoot, TestPki.Id("east"), TimeSpan.FromHours(1));

        var seen = await Handshake(server, client, null, clientTrustsAnyServer: true);

        Assert.Null(seen.ClientId);
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", seen.Error);
    }

    private static async Task<(SpiffeId? ClientId, string? Error)> Handshake(WorkloadIdentity server, WorkloadIdentity client, string? expected,
        bool clientTrustsAnyServer = false)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        SpiffeId? clientId = null;
        string? error = null;
        var serverOptions = server.ServerOptions();
        serverOptions.RemoteCertificateValidationCallback = (_, certificate, chain, _) =>
        {
            clientId = PeerCertificateValidator.Validate(certificate as X509Certificate2, chain, server.Anchors, out error);
            return certificate is not null;
        };
        var accept = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(socket.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(serverOptions);
                await tls.WriteAsync(new byte[] { 1 });
            }
            catch (Exception e) when (e is AuthenticationException or IOException)
            {
            }
        });
        using var connection = new TcpClient();
        await connection.ConnectAsync(IPAddress.Loopback, port);
        await using var stream = new SslStream(connection.GetStream());
        var clientOptions = client.ClientOptions(expected);
        clientOptions.TargetHost = "127.0.0.1";
        if (clientTrustsAnyServer)
        {
            // A foreign client does not share our anchors; it only wants to get past our server.
            clientOptions.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        await stream.AuthenticateAsClientAsync(clientOptions).WaitAsync(TimeSpan.FromSeconds(10));
        var buffer = new byte[1];
        await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        await accept.WaitAsync(TimeSpan.FromSeconds(10));
        return (clientId, error);
    }

    public void Dispose()
    {
        _west.Dispose();
        _east.Dispose();
        _root.Dispose();
    }
}
