using System.Net;
using FedMesh.Gateway.Tests.Fakes;

namespace FedMesh.Gateway.Tests;

public sealed class GatewayRoutingTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    public static TheoryData<string> Versions => new() { "2.0", "1.1" };

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task LinkedCaller_ReachesExportedService(string version)
    {
        using var client = fixture.Client(fixture.EastCaller);
        var hits = fixture.Backend.Hits;

        using var response = await client.SendAsync(GatewayFixture.Request("echo.default:7001", Version.Parse(version), "/hello?x=1"));

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        Assert.Equal(Version.Parse(version), response.Version);
        var seen = await GatewayFixture.ReadSeen(response);
        Assert.NotNull(seen);
        Assert.Equal("/hello", seen.Path);
        Assert.Equal("echo.default:7001", seen.Host);
        Assert.Equal(version == "2.0" ? "HTTP/2" : "HTTP/1.1", seen.Protocol); // the caller's protocol, kept to the workload
        Assert.Equal(GatewayFixture.GatewayIdentity, seen.Peer);
        Assert.Equal([fixture.EastCaller.Id.ToString()], seen.Caller);
        Assert.Equal(hits + 1, fixture.Backend.Hits);
    }

    [Fact]
    public async Task HostWithoutNamespace_MeansDefaultNamespace()
    {
        using var client = fixture.Client(fixture.EastCaller);

        using var response = await client.SendAsync(GatewayFixture.Request("echo", HttpVersion.Version20));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SpoofedCallerHeader_IsReplacedByVerifiedIdentity()
    {
        using var client = fixture.Client(fixture.EastCaller);
        using var request = GatewayFixture.Request("echo.default", HttpVersion.Version20);
        request.Headers.Add("x-fedmesh-caller", "spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/admin");
        request.Headers.Add("X-FedMesh-Caller", "spiffe://fedmesh.local/cluster/west/ns/default/sa/other");

        using var response = await client.SendAsync(request);

        var seen = await GatewayFixture.ReadSeen(response);
        Assert.Equal([fixture.EastCaller.Id.ToString()], seen!.Caller);
    }

    [Theory]
    [InlineData("secret.default", "service 'secret.default' is not exported by cluster west")]
    [InlineData("secret", "service 'secret.default' is not exported by cluster west")]
    [InlineData("echo-east.default", "service 'echo-east.default' is not exported by cluster west")]
    [InlineData("nothere.default", "service 'nothere.default' is not exported by cluster west")]
    [InlineData("nothere:8080", "service 'nothere.default' is not exported by cluster west")]
    public async Task ServiceNotExported_Gets404AndBackendIsNeverReached(string host, string message)
    {
        using var client = fixture.Client(fixture.EastCaller);
        var hits = fixture.Backend.Hits;

        using var response = await client.SendAsync(GatewayFixture.Request(host, HttpVersion.Version20));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(message + "\n", await response.Content.ReadAsStringAsync());
        Assert.Equal("not-exported", response.Headers.GetValues("x-fedmesh-error").Single());
        Assert.Equal(hits, fixture.Backend.Hits);
    }

    [Fact]
    public async Task ExportedServiceWithoutHealthyEndpoint_Gets503()
    {
        using var client = fixture.Client(fixture.EastCaller);
        var hits = fixture.Backend.Hits;

        using var response = await client.SendAsync(GatewayFixture.Request("down.default", HttpVersion.Version11));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("service 'down.default' has no healthy endpoint in cluster west", await response.Content.ReadAsStringAsync());
        Assert.Equal(hits, fixture.Backend.Hits);
    }

    [Fact]
    public async Task ManyRequests_ShareOneConnectionPoolAndAllArrive()
    {
        using var client = fixture.Client(fixture.EastCaller);
        var hits = fixture.Backend.Hits;

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));
            return response.StatusCode;
        }));

        Assert.All(responses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(hits + 50, fixture.Backend.Hits);
    }
}
