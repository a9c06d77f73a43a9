using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.MirrorController.Tests.Mirroring;

public sealed class RepairAndStatusTests
{
    private readonly InMemoryClusterStore _east = new("east");
    private readonly InMemoryClusterStore _west = new("west");

    private static Service Mirror(string remote, string cluster)
    {
        var service = Objects.Service(WellKnown.MirrorName(remote, cluster), exported: false,
            labels: [(WellKnown.MirrorOfLabel, remote), (WellKnown.MirrorClusterLabel, cluster)]);
        return service;
    }

    private static Endpoints MirrorEndpoints(string remote, string cluster)
    {
        var endpoints = Objects.Endpoints(WellKnown.MirrorName(remote, cluster), addresses: "127.0.0.1:1");
        endpoints.Metadata.Labels = new() { [WellKnown.MirrorOfLabel] = remote, [WellKnown.MirrorClusterLabel] = cluster };
        return endpoints;
    }

    [Fact]
    public async Task Start_OrphanMirrors_GarbageCollected()
    {
        // Left behind by a crash: a mirror of a cluster with no link, a mirror of a service west no
        // longer exports, and endpoints whose service was already deleted.
        await _east.CreateAsync(Mirror("api", "gone"));
        await _east.CreateAsync(MirrorEndpoints("api", "gone"));
        await _east.CreateAsync(Mirror("old", "west"));
        await _east.CreateAsync(MirrorEndpoints("half", "west"));
        await _east.CreateAsync(Objects.Service("local", exported: false));
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));

        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));

        await Eventually.TrueAsync(async () =>
            (await _east.ListAsync<Service>()).Select(s => s.Name).Order().SequenceEqual(["api-west", "local"]), "only api-west and the local service to remain");
        await Eventually.TrueAsync(async () =>
            (await _east.ListAsync<Endpoints>()).Select(s => s.Name).SequenceEqual(["api-west"]), "only api-west endpoints to remain");
    }

    [Fact]
    public async Task PeriodicRepair_MirrorDeletedByHand_Recreated()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west), repairInterval: TimeSpan.FromMilliseconds(200));
        await Eventually.ValueAsync(() => _east.GetAsync<Endpoints>("default", "api-west"), e => e is not null, "endpoints api-west");

        await _east.DeleteAsync<Endpoints>("default", "api-west");

        await Eventually.ValueAsync(() => _east.GetAsync<Endpoints>("default", "api-west"), e => e is not null, "repair to recreate endpoints api-west");
    }

    [Fact]
    public async Task Restart_EverythingInPlace_WritesNothing()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _west.CreateAsync(Objects.Service("web"));
        await _east.CreateAsync(Objects.Link("west"));
        await using (var first = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west)))
        {
            await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"),
                l => l?.Status?.MirroredServices == 2 && l.Status.Conditions?.Single().Reason == "Mirrored", "link status with two mirrors");
        }
        var writes = _east.Writes;
        var before = (await _east.ListAsync<Service>()).Select(s => s.Metadata.ResourceVersion).ToList();

        await using var second = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west), repairInterval: TimeSpan.FromMilliseconds(100));
        // A negative claim needs a quiet period: several repair passes run in it.
        await Task.Delay(TimeSpan.FromSeconds(1));

        Assert.Equal(writes, _east.Writes);
        Assert.Equal(before, (await _east.ListAsync<Service>()).Select(s => s.Metadata.ResourceVersion).ToList());
    }

    [Fact]
    public async Task LinkStatus_CountsMirrors_AndFollowsChanges()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _west.CreateAsync(Objects.Service("web"));
        var link = Objects.Link("west");
        link.Status = new LinkStatus { Alive = true, LastProbe = "2025-01-01T00:00:00Z" };
        await _east.CreateAsync(link);
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));

        var stored = await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"), l => l?.Status?.MirroredServices == 2, "two mirrored services");
        var ready = Assert.Single(stored!.Status!.Conditions!);
        Assert.Equal(("Ready", "True", "Mirrored"), (ready.Type, ready.Status, ready.Reason));
        Assert.True(stored.Status.Alive); // the prober's fields are left alone
        Assert.Equal("127.0.0.1:4143", stored.Spec.GatewayAddress);

        await _west.DeleteAsync<Service>("default", "web");
        await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"), l => l?.Status?.MirroredServices == 1, "one mirrored service");
    }

    [Fact]
    public async Task TargetUnreachable_ReportedInStatus_MirrorsKept_RecoversWhenBack()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));
        await Eventually.ValueAsync(() => _east.GetAsync<Service>("default", "api-west"), m => m is not null, "mirror api-west");

        _west.Unreachable = true;
        var link = await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"),
            l => l?.Status?.Conditions?.Single().Reason == "TargetUnreachable", "a TargetUnreachable condition");
        Assert.Equal("False", link!.Status!.Conditions!.Single().Status);
        Assert.Contains("unreachable", link.Status.Conditions!.Single().Message);
        Assert.NotNull(await _east.GetAsync<Service>("default", "api-west"));

        _west.Unreachable = false;
        await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"),
            l => l?.Status?.Conditions?.Single().Reason == "Mirrored", "the link to recover");
    }

    [Fact]
    public async Task UnknownTargetCluster_ReportedAsTargetUnreachable()
    {
        await _east.CreateAsync(Objects.Link("nowhere"));
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));

        var link = await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "nowhere"),
            l => l?.Status?.Conditions?.SingleOrDefault()?.Reason == "TargetUnreachable", "a TargetUnreachable condition");
        Assert.Contains("no cluster 'nowhere'", link!.Status!.Conditions!.Single().Message);
    }

    [Fact]
    public async Task NonMirroringLink_MirrorsNothing_StatusSaysSo()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west", mirror: false));
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));

        var link = await Eventually.ValueAsync(() => _east.GetAsync<Link>(WellKnown.SystemNamespace, "west"),
            l => l?.Status?.Conditions?.SingleOrDefault()?.Reason == "MirroringDisabled", "a MirroringDisabled condition");
        Assert.Equal(0, link!.Status!.MirroredServices);
        Assert.Empty(await _east.ListAsync<Service>());
    }
}
