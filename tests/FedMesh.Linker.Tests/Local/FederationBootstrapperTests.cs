using FedMesh.Core.Federation;
using FedMesh.Core.Resources;
using FedMesh.Core.Store.Local;
using FedMesh.Linker;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Tests.Local;

public sealed class FederationBootstrapperTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("fedmesh-boot-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    private static string Example(string name) => Path.Combine(AppContext.BaseDirectory, "examples", "local", name);

    [Fact]
    public async Task EnsureAsync_NewHome_CreatesDistinctPortsIdentityAndExportedServices()
    {
        var paths = new FederationPaths(_home);
        var config = await new FederationBootstrapper(paths, TimeProvider.System).EnsureAsync(Example("two-clusters.yaml"), CancellationToken.None);

        var parts = PartPlanner.Plan(paths, config);
        Assert.Equal(8, parts.Count);
        var ports = parts.SelectMany(p => p.Addresses.Values).Distinct().ToList();
        var portNumbers = config.Clusters.SelectMany(c => new[] { c.Controller.GrpcPort, c.Controller.AdminPort, c.Gateway.Port, c.Gateway.AdminPort }
            .Concat(c.Workloads.SelectMany(w => w.Instances.SelectMany(i => new[] { i.AppPort, i.OutboundPort, i.InboundPort, i.AdminPort })))).ToList();
        Assert.Equal(portNumbers.Count, portNumbers.Distinct().Count());
        Assert.All(portNumbers, p => Assert.InRange(p, 1, 65535));

        Assert.True(File.Exists(Path.Combine(paths.AnchorDirectory, "ca.crt")));
        foreach (var cluster in config.Clusters)
        {
            Assert.True(File.Exists(Path.Combine(paths.IssuerDirectory(cluster.Name), "ca.key")));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(paths.BootstrapTokenFile(cluster.Name)));
            using var store = new LocalClusterStore(cluster.Name, paths.StoreDirectory(cluster));
            var echo = await store.GetAsync<Service>("default", "echo");
            Assert.NotNull(echo);
            Assert.True(WellKnown.IsExported(echo!));
        }
    }

    [Fact]
    public async Task EnsureAsync_ExistingHome_KeepsPortsAndChangesNothing()
    {
        var paths = new FederationPaths(_home);
        var boot = new FederationBootstrapper(paths, TimeProvider.System);
        await boot.EnsureAsync(Example("two-clusters.yaml"), CancellationToken.None);
        var before = File.ReadAllText(paths.ConfigFile);
        var anchor = File.ReadAllText(Path.Combine(paths.AnchorDirectory, "ca.crt"));

        await boot.EnsureAsync(Example("three-clusters.yaml"), CancellationToken.None);

        Assert.Equal(before, File.ReadAllText(paths.ConfigFile));
        Assert.Equal(anchor, File.ReadAllText(Path.Combine(paths.AnchorDirectory, "ca.crt")));
    }

    [Fact]
    public async Task EnsureAsync_InvalidFederationFile_ListsEveryProblemAndWritesNoConfig()
    {
        var file = Path.Combine(_home, "bad.yaml");
        File.WriteAllText(file, """
            apiVersion: fedmesh.io/v1alpha1
            kind: Federation
            trustDomain: fedmesh.local
            clusters:
              - name: east
                workloads:
                  - { name: echo, service: echo, replicas: 0 }
              - name: east
                workloads:
                  - { name: web, app: nginx }
            """);
        var home = Path.Combine(_home, "fed");
        var error = await Assert.ThrowsAnyAsync<Exception>(() => new FederationBootstrapper(new FederationPaths(home), TimeProvider.System).EnsureAsync(file, CancellationToken.None));
        Assert.Contains("east", error.Message);
        Assert.Contains("replicas", error.Message);
        Assert.Contains("nginx", error.Message);
        Assert.False(File.Exists(Path.Combine(home, "config.yaml")));
    }
}
