using System.Net;
using FedMesh.Gateway.Tests.Fakes;

namespace FedMesh.Gateway.Tests;

public sealed class GatewayAdmissionTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task Request_WithoutClientCertificate_IsRefusedBeforeAnyBackend()
    {
        using var client = fixture.Client(identity: null);
        var hits = fixture.Backend.Hits;

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20)));

        Assert.Equal(hits, fixture.Backend.Hits);
    }

    [Fact]
    public async Task Request_CertificateFromAnotherTrustAnchor_Gets403()
    {
        using var client = fixture.Client(fixture.ForeignCaller, trustAnyServer: true);
        var hits = fixture.Backend.Hits;

        using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", await response.Content.ReadAsStringAsync());
        Assert.Equal("peer-refused", response.Headers.GetValues("x-fedmesh-error").Single());
        Assert.Equal(hits, fixture.Backend.Hits);
    }

    [Fact]
    public async Task Request_FromClusterNotLinked_Gets403NamingTheCluster()
    {
        using var client = fixture.Client(fixture.NorthCaller);
        var hits = fixture.Backend.Hits;

        using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version11));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("cluster 'north'", body);
        Assert.Contains("is not linked to cluster west", body);
        Assert.Equal(hits, fixture.Backend.Hits);
    }

    [Fact]
    public async Task Probe_FromLinkedPeer_Answers200WithoutTouchingBackend()
    {
        using var client = fixture.Client(fixture.EastCaller);
        var hits = fixture.Backend.Hits;

        using var response = await client.SendAsync(GatewayFixture.Request("anything", HttpVersion.Version20, "/fedmesh/probe"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(hits, fixture.Backend.Hits);
    }

    [Fact]
    public async Task Probe_FromUnlinkedPeer_Gets403()
    {
        using var client = fixture.Client(fixture.NorthCaller);

        using var response = await client.SendAsync(GatewayFixture.Request("anything", HttpVersion.Version20, "/fedmesh/probe"));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Gateway_PresentsItsClusterGatewayIdentity()
    {
        // The client only accepts spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway.
        using var client = fixture.Client(fixture.EastCaller);

        using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Core.Discovery.Protocol.NodeKind.Gateway, fixture.Controller.Discovery.LastNode?.Kind);
        Assert.Equal("west", fixture.Controller.Discovery.LastNode?.Cluster);
    }
}
