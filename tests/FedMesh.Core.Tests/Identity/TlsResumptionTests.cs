using FedMesh.Core.Forwarding;
using FedMesh.Core.Identity;
using FedMesh.Core.Tests.Identity.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Identity;

/// <summary>
/// Session resumption between mesh parts on real TLS over loopback: the client side as the proxy and gateway open
/// direct-path connections (<see cref="MeshClient"/>), the server side with <see cref="WorkloadIdentity.ServerOptions"/>.
/// Whether a session was offered and resumed is read from the hellos on the wire (<see cref="TlsHelloTap"/>).
/// </summary>
public sealed class TlsResumptionTests : IAsyncLifetime
{
    private readonly CertificateAuthority _root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, TimeProvider.System);
    private CertificateAuthority _west = null!;
    private CertificateAuthority _east = null!;
    private WorkloadIdentity _gateway = null!;
    private WorkloadIdentity _caller = null!;
    private ResumingServer _server = null!;
    private TlsHelloTap _tap = null!;

    private string GatewayId => _gateway.Id.ToString();

    public Task InitializeAsync()
    {
        _west = _root.CreateIntermediate("west");
        _east = _root.CreateIntermediate("east");
        _gateway = WorkloadIdentity.FromIssuer(_west, TestPki.Id("west", "fedmesh-system", "gateway"), TimeSpan.FromHours(1));
        _caller = WorkloadIdentity.FromIssuer(_east, TestPki.Id("east"), TimeSpan.FromHours(1));
        _server = new ResumingServer(_gateway);
        _tap = new TlsHelloTap(_server.Endpoint);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _tap.DisposeAsync();
        await _server.DisposeAsync();
        _caller.Dispose();
        _gateway.Dispose();
        _east.Dispose();
        _west.Dispose();
        _root.Dispose();
    }

    [Fact]
    public async Task SecondConnection_Resumes_AndIsValidatedInFullWithTheRightId()
    {
        var first = await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);
        var second = await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);

        var hellos = _tap.Handshakes;
        Assert.Equal(2, hellos.Count);
        Assert.All(hellos, h => Assert.True(h.Tls13));
        Assert.False(hellos[0].Offered);
        Assert.False(hellos[0].Resumed);
        Assert.True(hellos[1].Offered, "the second connection offered the first one's session");
        Assert.True(hellos[1].Resumed, "the server resumed it");
        Assert.EndsWith(UpstreamTlsName.SyntheticSuffix, hellos[1].ServerName);
        // The full handshake showed the issuer; the resumed one only the leaf, chained with what the first taught.
        Assert.False(first.LeafOnly);
        Assert.True(second.LeafOnly);
        Assert.Equal(_caller.Id, first.Id);
        Assert.Equal(_caller.Id, second.Id);
        Assert.Null(second.Error);
    }

    [Fact]
    public async Task ResumedSession_AnchorsRotatedAway_IsRefused()
    {
        await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);
        using var newRoot = CertificateAuthority.CreateRoot(TestPki.TrustDomain, TimeProvider.System);
        _server.Anchors = [newRoot.Certificate];

        var resumed = await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);

        Assert.True(_tap.Handshakes[^1].Resumed);
        Assert.True(resumed.LeafOnly);
        Assert.Null(resumed.Id);
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", resumed.Error);
    }

    [Fact]
    public async Task ResumedSession_IssuerExpired_IsRefused()
    {
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        using var shortIssuer = _root.CreateIntermediate("east", TimeSpan.FromMinutes(30));
        using var caller = WorkloadIdentity.FromIssuer(shortIssuer, TestPki.Id("east", "default", "short"), TimeSpan.FromMinutes(20));
        await using var server = new ResumingServer(_gateway, time);
        await using var tap = new TlsHelloTap(server.Endpoint);
        Assert.NotNull((await server.ConnectAsync(caller, GatewayId, tap.Endpoint)).Id);
        time.Advance(TimeSpan.FromHours(1));

        var resumed = await server.ConnectAsync(caller, GatewayId, tap.Endpoint);

        Assert.True(tap.Handshakes[^1].Resumed);
        Assert.Null(resumed.Id);
        Assert.Contains("is not valid at", resumed.Error);
    }

    [Fact]
    public async Task Session_IsNotOfferedWhenAnotherIdentityIsExpected()
    {
        await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);

        // Any id of the trust domain: the same server passes, but the session was not made for this expectation.
        var other = await _server.ConnectAsync(_caller, expected: null, _tap.Endpoint);

        Assert.NotNull(other.Id);
        Assert.False(_tap.Handshakes[^1].Offered);
        Assert.NotEqual(_tap.Handshakes[0].ServerName, _tap.Handshakes[^1].ServerName);
    }

    [Fact]
    public async Task Session_IsNotOfferedToAnotherEndpoint_EvenOfTheSameServer()
    {
        await using var secondDoor = new TlsHelloTap(_server.Endpoint);
        await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);

        await _server.ConnectAsync(_caller, GatewayId, secondDoor.Endpoint);

        Assert.False(secondDoor.Handshakes.Single().Offered);
        Assert.NotEqual(_tap.Handshakes[0].ServerName, secondDoor.Handshakes[0].ServerName);
    }

    [Fact]
    public async Task ServerRenewed_SessionOfferedButNotResumed_FullHandshakeSucceeds()
    {
        await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);
        using var renewed = WorkloadIdentity.FromIssuer(_west, _gateway.Id, TimeSpan.FromHours(1));
        _server.Identity = renewed;

        var after = await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);

        Assert.True(_tap.Handshakes[^1].Offered);
        Assert.False(_tap.Handshakes[^1].Resumed, "a new certificate is a new TLS context, whose ticket key is new");
        Assert.False(after.LeafOnly);
        Assert.Equal(_caller.Id, after.Id);
    }

    [Fact]
    public async Task ClientRenewed_NoSessionOffered_FullHandshakeWithTheNewCertificate()
    {
        await _server.ConnectAsync(_caller, GatewayId, _tap.Endpoint);
        using var renewed = WorkloadIdentity.FromIssuer(_east, _caller.Id, TimeSpan.FromHours(1));

        var after = await _server.ConnectAsync(renewed, GatewayId, _tap.Endpoint);

        Assert.False(_tap.Handshakes[^1].Offered, "sessions are kept per client certificate");
        Assert.Equal(_caller.Id, after.Id);
        Assert.False(after.LeafOnly);
    }
}
