using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.MirrorController.Tests.Mirroring;

public sealed class MirroringTests
{
    private readonly InMemoryClusterStore _east = new("east");
    private readonly InMemoryClusterStore _west = new("west");

    private Task<RunningController> StartEastAsync(TimeSpan? repairInterval = null) =>
        RunningController.StartAsync(_east, new DictionaryTargetResolver(_west), repairInterval);

    private Task<Service?> MirrorAsync(string name, string ns = "default") => _east.GetAsync<Service>(ns, name);

    [Fact]
    public async Task Link_ExportedRemoteServices_MirrorsAppearWithLabelsAndGatewayEndpoint()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _west.CreateAsync(Objects.Service("private", exported: false));
        await _west.CreateAsync(Objects.Service("db", ns: "data"));
        await using var controller = await StartEastAsync();

        await _east.CreateAsync(Objects.Link("west", gateway: "127.0.0.1:4200"));

        var mirror = await Eventually.ValueAsync(() => MirrorAsync("api-west"), m => m is not null, "mirror api-west");
        Assert.Equal("api", mirror!.Metadata.Label(WellKnown.MirrorOfLabel));
        Assert.Equal("west", mirror.Metadata.Label(WellKnown.MirrorClusterLabel));
        Assert.Null(mirror.Metadata.Label(WellKnown.ExportedLabel));
        Assert.Equal(8080, Assert.Single(mirror.Spec.Ports).Port);

        var endpoints = await Eventually.ValueAsync(() => _east.GetAsync<Endpoints>("default", "api-west"), e => e is not null, "endpoints api-west");
        var endpoint = Assert.Single(endpoints!.Spec.Endpoints);
        Assert.Equal("127.0.0.1:4200", endpoint.Address);
        Assert.Equal("spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway", endpoint.Identity);
        Assert.Equal("west", endpoint.Cluster);
        Assert.True(endpoint.ViaGateway);
        Assert.True(endpoint.Ready);
        Assert.Equal(1, endpoint.Weight);

        await Eventually.ValueAsync(() => MirrorAsync("db-west", "data"), m => m is not null, "mirror data/db-west");
        Assert.Null(await MirrorAsync("private-west"));
    }

    [Fact]
    public async Task Unexport_RemoteService_MirrorRemoved()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        await using var controller = await StartEastAsync();
        await Eventually.ValueAsync(() => MirrorAsync("api-west"), m => m is not null, "mirror api-west");

        await _west.MutateAsync<Service>("default", "api", s => s!.WithoutExport());

        await Eventually.ValueAsync(() => MirrorAsync("api-west"), m => m is null, "mirror api-west to go");
        await Eventually.ValueAsync(() => _east.GetAsync<Endpoints>("default", "api-west"), e => e is null, "endpoints api-west to go");
    }

    [Fact]
    public async Task DeleteRemoteService_MirrorRemoved_AndNewExportMirrored()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        await using var controller = await StartEastAsync();
        await Eventually.ValueAsync(() => MirrorAsync("api-west"), m => m is not null, "mirror api-west");

        await _west.DeleteAsync<Service>("default", "api");
        await _west.CreateAsync(Objects.Service("web"));

        await Eventually.ValueAsync(() => MirrorAsync("api-west"), m => m is null, "mirror api-west to go");
        await Eventually.ValueAsync(() => MirrorAsync("web-west"), m => m is not null, "mirror web-west");
    }

    [Fact]
    public async Task Unlink_AllMirrorsOfThatClusterRemoved_OthersKept()
    {
        var north = new InMemoryClusterStore("north");
        await _west.CreateAsync(Objects.Service("api"));
        await _west.CreateAsync(Objects.Service("web"));
        await north.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        await _east.CreateAsync(Objects.Link("north"));
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west, north));
        await Eventually.TrueAsync(async () => (await _east.ListAsync<Service>()).Count == 3, "three mirrors");

        await _east.DeleteAsync<Link>(WellKnown.SystemNamespace, "west");

        await Eventually.TrueAsync(async () => (await _east.ListAsync<Service>()).Select(s => s.Name).SequenceEqual(["api-north"]), "only api-north to remain");
        await Eventually.TrueAsync(async () => (await _east.ListAsync<Endpoints>()).Select(s => s.Name).SequenceEqual(["api-north"]), "only api-north endpoints to remain");
    }

    [Fact]
    public async Task GatewayChange_MirrorEndpointsUpdated()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west", gateway: "127.0.0.1:4200"));
        await using var controller = await StartEastAsync();
        await Eventually.ValueAsync(() => _east.GetAsync<Endpoints>("default", "api-west"), e => e is not null, "endpoints api-west");

        await _east.MutateAsync<Link>(WellKnown.SystemNamespace, "west", l =>
        {
            l!.Spec.GatewayAddress = "127.0.0.1:4300";
            l.Spec.GatewayIdentity = "spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway-2";
            return l;
        });

        var endpoints = await Eventually.ValueAsync(() => _east.GetAsync<Endpoints>("default", "api-west"),
            e => e?.Spec.Endpoints.Single().Address == "127.0.0.1:4300", "endpoints to follow the new gateway");
        Assert.EndsWith("sa/gateway-2", endpoints!.Spec.Endpoints.Single().Identity);
    }

    [Fact]
    public async Task Selector_MatchLabelsReplaceExportedLabel()
    {
        await _west.CreateAsync(Objects.Service("api", exported: false, labels: ("tier", "front")));
        await _west.CreateAsync(Objects.Service("db", exported: true));
        await _east.CreateAsync(Objects.Link("west", selector: new() { ["tier"] = "front" }));
        await using var controller = await StartEastAsync();

        await Eventually.ValueAsync(() => MirrorAsync("api-west"), m => m is not null, "mirror api-west");
        await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"), l => l?.Status?.MirroredServices == 1, "status to count one mirror");
        Assert.Null(await MirrorAsync("db-west"));
    }

    [Fact]
    public async Task RemoteMirror_NeverMirroredAgain()
    {
        var remoteMirror = Objects.Service("api-north", labels: [(WellKnown.MirrorClusterLabel, "north"), (WellKnown.MirrorOfLabel, "api")]);
        await _west.CreateAsync(remoteMirror);
        await _west.CreateAsync(Objects.Service("web"));
        await _east.CreateAsync(Objects.Link("west"));
        await using var controller = await StartEastAsync();

        await Eventually.ValueAsync(() => MirrorAsync("web-west"), m => m is not null, "mirror web-west");
        Assert.Null(await MirrorAsync("api-north-west"));
    }

    [Fact]
    public async Task LocalServiceWithMirrorName_NotOverwritten_LinkReportsConflict()
    {
        var local = Objects.Service("api-west", exported: false);
        await _east.CreateAsync(local);
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        await using var controller = await StartEastAsync();

        var link = await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"),
            l => l?.Status?.Conditions?.Any(c => c.Reason == "MirrorConflict") == true, "a MirrorConflict condition");
        Assert.Contains("default/api-west", link!.Status!.Conditions!.Single().Message);
        var stored = await MirrorAsync("api-west");
        Assert.Null(stored!.Metadata.Label(WellKnown.MirrorClusterLabel));
    }
}
