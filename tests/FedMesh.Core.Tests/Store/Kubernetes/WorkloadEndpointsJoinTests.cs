using FedMesh.Core.Resources;
using FedMesh.Core.Store.Kubernetes.Workloads;

namespace FedMesh.Core.Tests.Store.Kubernetes;

public sealed class WorkloadEndpointsJoinTests
{
    private readonly WorkloadEndpointsJoin _join = new("east", "fedmesh.local");

    [Fact]
    public void Build_SliceOfInjectedAndPlainPods_OnlyInjectedOnesAtTheSidecarPortWithIdentityAndInstance()
    {
        _join.Apply(false, Slice("web-x1", "web", new SliceMember("web-1", true, "zone-a"), new SliceMember("plain-1", true, "zone-a")));
        _join.Apply(false, Pod("web-1", "10.1.0.5", "web-sa"));

        var entry = Assert.Single(_join.Build("shop", "web")!.Spec.Endpoints);

        Assert.Equal("10.1.0.5:15006", entry.Address);
        Assert.Equal("web-1.shop", entry.Instance);
        Assert.Equal("spiffe://fedmesh.local/cluster/east/ns/shop/sa/web-sa", entry.Identity);
        Assert.Equal(("east", "zone-a", true, 1, false), (entry.Cluster, entry.Zone, entry.Ready, entry.Weight, entry.ViaGateway));
    }

    [Fact]
    public void Build_PodInTheIPv4AndIPv6SlicesOfItsService_OneEntryReadyOnlyIfBothSay()
    {
        _join.Apply(false, Pod("web-1", "fd00::5", "default"));
        _join.Apply(false, Slice("web-v4", "web", new SliceMember("web-1", true, null)));
        _join.Apply(false, Slice("web-v6", "web", new SliceMember("web-1", false, "zone-b")));

        var entry = Assert.Single(_join.Build("shop", "web")!.Spec.Endpoints);

        Assert.Equal("[fd00::5]:15006", entry.Address);
        Assert.False(entry.Ready);
        Assert.Equal("zone-b", entry.Zone);
    }

    [Fact]
    public void Apply_PodDeleted_AffectsItsServicesWhichLoseTheEntry()
    {
        _join.Apply(false, Slice("web-x1", "web", new SliceMember("web-1", true, null), new SliceMember("web-2", true, null)));
        _join.Apply(false, Slice("api-x1", "api", new SliceMember("web-1", true, null)));
        _join.Apply(false, Pod("web-1", "10.1.0.5", "web"));
        _join.Apply(false, Pod("web-2", "10.1.0.6", "web"));

        var affected = _join.Apply(true, Pod("web-1", "10.1.0.5", "web"));

        Assert.Equal([("shop", "api"), ("shop", "web")], affected.Order());
        Assert.Equal(["10.1.0.6:15006"], _join.Build("shop", "web")!.Spec.Endpoints.Select(e => e.Address));
        Assert.Null(_join.Build("shop", "api"));
    }

    [Fact]
    public void Apply_SliceMovedToAnotherServiceThenDeleted_AffectsBothAndLeavesNothing()
    {
        _join.Apply(false, Pod("web-1", "10.1.0.5", "web"));
        _join.Apply(false, Slice("x1", "web", new SliceMember("web-1", true, null)));

        var moved = _join.Apply(false, Slice("x1", "web2", new SliceMember("web-1", true, null)));
        var deleted = _join.Apply(true, Slice("x1", "web2"));

        Assert.Equal([("shop", "web"), ("shop", "web2")], moved.Order());
        Assert.Equal([("shop", "web2")], deleted);
        Assert.Empty(_join.Services);
        Assert.Empty(_join.Apply(false, Pod("web-1", "10.1.0.7", "web")));
    }

    [Fact]
    public void Build_PodWithoutAddressOrWithAServiceAccountNoSpiffeIdCanName_GivesNoEntry()
    {
        _join.Apply(false, Slice("web-x1", "web", new SliceMember("pending", true, null), new SliceMember("dotted", true, null)));
        _join.Apply(false, Pod("pending", null, "web"));
        _join.Apply(false, Pod("dotted", "10.1.0.8", "team.web"));

        Assert.Null(_join.Build("shop", "web"));
    }

    private static ServiceSlice Slice(string name, string service, params SliceMember[] members) =>
        new() { Metadata = new ObjectMeta { Name = name, Namespace = "shop" }, Service = service, Members = members };

    private static InjectedPod Pod(string name, string? ip, string serviceAccount) =>
        new() { Metadata = new ObjectMeta { Name = name, Namespace = "shop" }, PodIp = ip, ServiceAccount = serviceAccount };
}
