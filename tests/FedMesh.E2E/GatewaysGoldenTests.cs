using FedMesh.Core.Federation;
using FedMesh.Core.Resources;
using FedMesh.Core.Store.Local;

namespace FedMesh.E2E;

/// <summary>
/// <c>fedmesh gateways</c> against a federation home whose Links carry known probe results (as a prober writes them):
/// no processes, so the output is exact.
/// </summary>
public sealed class GatewaysGoldenTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("fedmesh-gateways-").FullName;

    [Fact]
    public async Task Gateways_LiveAndDeadLinks_MatchesGoldenFile()
    {
        var paths = new FederationPaths(_home);
        var config = new FederationConfig();
        foreach (var name in new[] { "east", "west", "north", "south" })
            config.Clusters.Add(new ClusterConfig { Name = name, Store = $"clusters/{name}/store" });
        Directory.CreateDirectory(paths.Home);
        FederationConfigFile.Save(config, paths.ConfigFile);
        using (var store = new LocalClusterStore("east", paths.StoreDirectory(config.Clusters[0])))
        {
            await store.CreateAsync(Link("west", new LinkStatus { Alive = true, LastProbe = "2026-01-01T00:00:00Z", MirroredServices = 3, Latency = new LatencySummary { P50 = 0.42, P95 = 12.5, P99 = 130 } }));
            await store.CreateAsync(Link("north", new LinkStatus { Alive = false, LastProbe = "2026-01-01T00:00:00Z", MirroredServices = 1, Latency = new LatencySummary { P50 = 1, P95 = 2, P99 = 3 } }));
            await store.CreateAsync(Link("south", null));
        }

        var table = await Cli.RunAsync(_home, TimeSpan.FromMinutes(1), "gateways", "--cluster", "east");
        Assert.True(table.ExitCode == 0, table.ToString());
        AssertGolden("gateways.txt", table.Stdout);

        var json = await Cli.RunAsync(_home, TimeSpan.FromMinutes(1), "gateways", "--cluster", "east", "-o", "json");
        Assert.True(json.ExitCode == 0, json.ToString());
        AssertGolden("gateways.json", json.Stdout);
    }

    private static Link Link(string target, LinkStatus? status)
    {
        var link = new Link
        {
            Spec = new LinkSpec { TargetCluster = target, GatewayAddress = "127.0.0.1:1", GatewayIdentity = $"spiffe://fedmesh.local/cluster/{target}/ns/fedmesh-system/sa/gateway" },
            Status = status,
        };
        link.Metadata.Name = target;
        link.Metadata.Namespace = WellKnown.SystemNamespace;
        return link;
    }

    /// <summary>Compares line by line, ignoring trailing blanks; FEDMESH_UPDATE_GOLDEN=1 rewrites the file.</summary>
    private static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(Cli.RepoRoot, "tests", "FedMesh.E2E", "golden", name);
        var normalized = string.Join("\n", actual.Replace("\r\n", "\n").TrimEnd('\n').Split('\n').Select(l => l.TrimEnd())) + "\n";
        if (Environment.GetEnvironmentVariable("FEDMESH_UPDATE_GOLDEN") == "1") File.WriteAllText(path, normalized);
        Assert.Equal(File.ReadAllText(path), normalized);
    }

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}
