using FedMesh.Core.Resources;
using k8s;
using FedMesh.Core.Store;
using FedMesh.Core.Validation;
using static FedMesh.Kubernetes.Tests.Store.StoreFixture;

namespace FedMesh.Kubernetes.Tests.Store;

public sealed class KubernetesClusterStoreCrudTests
{
    [Fact]
    public async Task CreateGetList_ServiceAndLink_RoundTripThroughTheApi()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        var created = await store.CreateAsync(Svc("web", exported: true));
        var link = await store.CreateAsync(Link("west"));

        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));
        var read = await store.GetAsync<Service>("default", "web");
        Assert.NotNull(read);
        Assert.True(WellKnown.IsExported(read));
        Assert.Equal(8080, read.Spec.Ports[0].TargetPort);
        var links = await store.ListAsync<Link>();
        Assert.Equal("west", Assert.Single(links).Spec.TargetCluster);
        Assert.Equal(link.Metadata.ResourceVersion, links[0].Metadata.ResourceVersion);
    }

    [Fact]
    public async Task Create_Existing_ThrowsConflict()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        await store.CreateAsync(Svc("web"));
        var e = await Assert.ThrowsAsync<StoreConflictException>(() => store.CreateAsync(Svc("web")));
        Assert.Contains("already exists", e.Message);
    }

    [Fact]
    public async Task Update_StaleResourceVersion_ThrowsConflictAndKeepsNewer()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        var first = await store.CreateAsync(Link("west"));
        var stale = await store.GetAsync<Link>(WellKnown.SystemNamespace, "west");
        first.Status = new LinkStatus { MirroredServices = 3 };
        await store.UpdateAsync(first);

        stale!.Spec.GatewayAddress = "10.9.9.9:4143";
        await Assert.ThrowsAsync<StoreConflictException>(() => store.UpdateAsync(stale));
        var now = await store.GetAsync<Link>(WellKnown.SystemNamespace, "west");
        Assert.Equal("10.0.0.9:4143", now!.Spec.GatewayAddress);
        Assert.Equal(3, now.Status!.MirroredServices);
    }

    [Fact]
    public async Task Update_Missing_ThrowsNotFound()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        var ghost = Svc("ghost");
        ghost.Metadata.ResourceVersion = "5";
        await Assert.ThrowsAsync<StoreNotFoundException>(() => store.UpdateAsync(ghost));
    }

    [Fact]
    public async Task Delete_WithStaleVersion_ThrowsConflict_ThenDeletesAndReportsAbsence()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        var created = await store.CreateAsync(Svc("web"));
        await store.MutateAsync<Service>("default", "web", s => { s!.Spec.Ports[0].Port = 81; return s; });

        await Assert.ThrowsAsync<StoreConflictException>(() => store.DeleteAsync<Service>("default", "web", created.Metadata.ResourceVersion));
        Assert.True(await store.DeleteAsync<Service>("default", "web"));
        Assert.False(await store.DeleteAsync<Service>("default", "web"));
        Assert.Null(await store.GetAsync<Service>("default", "web"));
    }

    [Fact]
    public async Task Endpoints_RoundTripThroughOneEndpointSlice_KeepingPerEndpointFields()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        var endpoints = new Endpoints
        {
            Metadata = new ObjectMeta { Name = "web-west", Namespace = "default", Labels = new() { [WellKnown.MirrorClusterLabel] = "west" } },
            Spec = new EndpointsSpec
            {
                Endpoints =
                [
                    new EndpointEntry { Address = "10.0.0.9:4143", Identity = "spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway", Cluster = "west", ViaGateway = true, Zone = "z1" },
                    new EndpointEntry { Address = "10.0.0.10:4144", Instance = "web-1", Ready = false, Weight = 3 },
                ],
            },
        };
        await store.CreateAsync(endpoints);

        var slice = await server.Client().DiscoveryV1.ReadNamespacedEndpointSliceAsync("web-west", "default");
        Assert.Equal("web-west", slice.Metadata.Labels["kubernetes.io/service-name"]);
        Assert.Equal("IPv4", slice.AddressType);
        var back = (await store.GetAsync<Endpoints>("default", "web-west"))!;
        Assert.Equal("west", back.Metadata.Label(WellKnown.MirrorClusterLabel));
        Assert.Null(back.Metadata.Annotations);
        Assert.Collection(back.Spec.Endpoints,
            e => { Assert.Equal("10.0.0.9:4143", e.Address); Assert.True(e.ViaGateway); Assert.Equal("west", e.Cluster); Assert.Equal("z1", e.Zone); Assert.StartsWith("spiffe://", e.Identity); },
            e => { Assert.Equal("10.0.0.10:4144", e.Address); Assert.False(e.Ready); Assert.Equal(3, e.Weight); Assert.Equal("web-1", e.Instance); });
    }

    [Fact]
    public async Task Create_InvalidSplit_RejectedBeforeReachingTheServer()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        var split = new TrafficSplit { Metadata = new ObjectMeta { Name = "web" }, Spec = new TrafficSplitSpec { Service = "web", Backends = [new SplitBackend { Service = "web", Weight = 120 }] } };
        var e = await Assert.ThrowsAsync<ResourceValidationException>(() => store.CreateAsync(split));
        Assert.Contains("spec.backends[0].weight", e.Message);
        Assert.Empty(await store.ListAsync<TrafficSplit>());
    }
}
