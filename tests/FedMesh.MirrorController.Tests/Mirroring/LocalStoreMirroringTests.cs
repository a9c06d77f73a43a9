using FedMesh.Core.Federation;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Local;
using FedMesh.MirrorController.Targets;
using FedMesh.MirrorController.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.MirrorController.Tests.Mirroring;

/// <summary>The same behaviour over real store directories, with the local target resolver reading config.yaml.</summary>
public sealed class LocalStoreMirroringTests : IAsyncDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "fedmesh-mcl-" + Guid.NewGuid().ToString("N"));
    private readonly FederationPaths _paths;
    private readonly LocalClusterStore _east;
    private readonly LocalClusterStore _west;
    private readonly LocalTargetStoreResolver _targets;

    public LocalStoreMirroringTests()
    {
        _paths = new FederationPaths(_home);
        var config = new FederationConfig();
        config.Clusters.AddRange([new ClusterConfig { Name = "east" }, new ClusterConfig { Name = "west" }]);
        FederationConfigFile.Save(config, _paths.ConfigFile);
        foreach (var cluster in config.Clusters)
            Directory.CreateDirectory(_paths.StoreDirectory(cluster));
        _east = new LocalClusterStore("east", _paths.StoreDirectory(config.Clusters[0]));
        _west = new LocalClusterStore("west", _paths.StoreDirectory(config.Clusters[1]));
        _targets = new LocalTargetStoreResolver(_paths, FederationConfigFile.Load, (c, dir) => new LocalClusterStore(c.Name, dir));
    }

    public async ValueTask DisposeAsync()
    {
        await _targets.DisposeAsync();
        _east.Dispose();
        _west.Dispose();
        Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task LinkUnexportUnlink_OnDirectories_MirrorsFollow()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _west.CreateAsync(Objects.Service("web"));
        await using var controller = await RunningController.StartAsync(_east, _targets);

        await _east.CreateAsync(Objects.Link("west"));
        await Eventually.TrueAsync(async () => (await _east.ListAsync<Endpoints>()).Count == 2, "two mirror endpoints");

        await _west.MutateAsync<Service>("default", "web", s => s!.WithoutExport());
        await Eventually.TrueAsync(async () => (await _east.ListAsync<Service>()).Select(s => s.Name).SequenceEqual(["api-west"]), "only api-west");

        await _east.DeleteAsync<Link>(WellKnown.SystemNamespace, "west");
        await Eventually.TrueAsync(async () => (await _east.ListAsync<Service>()).Count == 0 && (await _east.ListAsync<Endpoints>()).Count == 0, "no mirrors");
    }

    [Fact]
    public async Task Restart_OnDirectories_OrphanCollected_ThenNothingRewritten()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        var orphan = Objects.Service("old-west", exported: false, labels: [(WellKnown.MirrorClusterLabel, "west"), (WellKnown.MirrorOfLabel, "old")]);
        await _east.CreateAsync(orphan);

        await using (var first = await RunningController.StartAsync(_east, _targets))
        {
            await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"),
                l => l?.Status?.MirroredServices == 1 && l.Status.Conditions?.Single().Reason == "Mirrored", "status with one mirror");
            // The start-up repair pass runs beside mirroring: the status may be written before it removes the orphan.
            await Eventually.TrueAsync(async () => await _east.GetAsync<Service>("default", "old-west") is null, "the orphan mirror to be collected");
        }
        var before = await VersionsAsync();

        await using var second = await RunningController.StartAsync(_east, _targets, repairInterval: TimeSpan.FromMilliseconds(100));
        await Task.Delay(TimeSpan.FromSeconds(1)); // quiet period covering several repair passes

        Assert.Equal(before, await VersionsAsync());
    }

    [Fact]
    public async Task Resolver_UnknownCluster_ExplainsWhereItLooked()
    {
        var error = await Assert.ThrowsAsync<TargetUnreachableException>(async () => await _targets.OpenAsync(Objects.Link("mars"), CancellationToken.None));

        Assert.Contains("cluster 'mars' is not in", error.Message);
        Assert.Contains(_paths.ConfigFile, error.Message);
    }

    private async Task<List<string>> VersionsAsync()
    {
        var versions = new List<string>();
        versions.AddRange((await _east.ListAsync<Service>()).Select(s => $"{s.Name}@{s.Metadata.ResourceVersion}"));
        versions.AddRange((await _east.ListAsync<Endpoints>()).Select(s => $"ep/{s.Name}@{s.Metadata.ResourceVersion}"));
        versions.AddRange((await _east.ListAsync<Link>()).Select(s => $"link/{s.Name}@{s.Metadata.ResourceVersion}"));
        return versions;
    }
}
