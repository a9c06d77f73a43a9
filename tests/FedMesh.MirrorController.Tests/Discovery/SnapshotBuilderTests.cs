using FedMesh.Core.Resources;
using FedMesh.MirrorController.Discovery;
using FedMesh.MirrorController.Tests.Support;

namespace FedMesh.MirrorController.Tests.Discovery;

public sealed class SnapshotBuilderTests
{
    private static ModelView View(params Service[] services) =>
        new(services, new Dictionary<string, Endpoints>(), [], [], []);

    [Fact]
    public void Build_SameContentInAnyOrder_SameVersion()
    {
        var a = SnapshotBuilder.Build(View(Objects.Service("a"), Objects.Service("b")), "east", "fedmesh.local");
        var b = SnapshotBuilder.Build(View(Objects.Service("b"), Objects.Service("a")), "east", "fedmesh.local");

        Assert.Equal(a.Version, b.Version);
        Assert.Equal(["a", "b"], b.Services.Select(s => s.Name));
    }

    [Fact]
    public void Build_ContentChanges_VersionChanges()
    {
        var a = SnapshotBuilder.Build(View(Objects.Service("a")), "east", "fedmesh.local");
        var b = SnapshotBuilder.Build(View(Objects.Service("a", exported: false)), "east", "fedmesh.local");

        Assert.NotEqual(a.Version, b.Version);
    }

    [Fact]
    public void Backend_LocalOrUnnamedCluster_IsTheServiceItself_RemoteIsItsMirror()
    {
        Assert.Equal(("api", "east"), Pair(RouteCompiler.Backend("api", "default", null, 1, "east")));
        Assert.Equal(("api", "east"), Pair(RouteCompiler.Backend("api", "default", "east", 1, "east")));
        Assert.Equal(("api-west", "west"), Pair(RouteCompiler.Backend("api", "default", "west", 1, "east")));

        static (string, string) Pair(Core.Discovery.Protocol.WeightedBackend b) => (b.Service, b.Cluster);
    }
}
