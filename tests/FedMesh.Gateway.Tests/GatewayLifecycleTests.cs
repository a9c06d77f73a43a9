using System.Net;
using FedMesh.Gateway.Tests.Fakes;
using FedMesh.Tests.Shared;

namespace FedMesh.Gateway.Tests;

public sealed class GatewayLifecycleTests
{
    [Fact]
    public async Task Ready_Waits_ForFirstSnapshot()
    {
        await using var federation = new OwnedFixture(new GatewayFixture { PublishAtStart = false });
        var fixture = await federation.StartAsync();

        Assert.Equal(HttpStatusCode.OK, await fixture.AdminStatusAsync("/live"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await fixture.AdminStatusAsync("/ready"));
        fixture.Controller.Discovery.Publish(fixture.Snapshot("1", "east"));

        await Eventually.TrueAsync(async () => await fixture.AdminStatusAsync("/ready") == HttpStatusCode.OK, "readiness", GatewayFixture.Patience);
    }

    [Fact]
    public async Task Unlinking_AppliesToOpenConnections_AndRelinkingRestores()
    {
        await using var federation = new OwnedFixture(new GatewayFixture());
        var fixture = await federation.StartAsync();
        using var client = fixture.Client(fixture.EastCaller);
        using (var first = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20)))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        fixture.Controller.Discovery.Publish(fixture.Snapshot("2"));
        await Eventually.TrueAsync(async () =>
        {
            using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));
            return response.StatusCode == HttpStatusCode.Forbidden;
        }, "the unlink to apply", GatewayFixture.Patience);

        fixture.Controller.Discovery.Publish(fixture.Snapshot("3", "east"));
        await Eventually.TrueAsync(async () =>
        {
            using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));
            return response.StatusCode == HttpStatusCode.OK;
        }, "the relink to apply", GatewayFixture.Patience);
    }

    [Fact]
    public async Task DiscoveryDown_KeepsServingLastSnapshot()
    {
        await using var federation = new OwnedFixture(new GatewayFixture());
        var fixture = await federation.StartAsync();
        var watches = fixture.Controller.Discovery.Watches;

        fixture.Controller.Discovery.DropStreams();
        using var client = fixture.Client(fixture.EastCaller);
        using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await fixture.AdminStatusAsync("/ready"));
        await Eventually.TrueAsync(() => fixture.Controller.Discovery.Watches > watches, "the gateway to reconnect", GatewayFixture.Patience);
    }

    [Fact]
    public async Task RunAsync_BadOptions_ReturnsUsageExitCode()
    {
        var code = await GatewayHost.RunAsync(["--Cluster", "West", "--Listen", "nowhere"], CancellationToken.None);

        Assert.Equal(GatewayHost.Usage, code);
    }

    /// <summary>Owns a fixture started outside xunit's class-fixture lifecycle.</summary>
    private sealed class OwnedFixture(GatewayFixture fixture) : IAsyncDisposable
    {
        public async Task<GatewayFixture> StartAsync()
        {
            await fixture.InitializeAsync();
            return fixture;
        }

        public async ValueTask DisposeAsync() => await fixture.DisposeAsync();
    }
}
