using FedMesh.Core.Federation;
using FedMesh.Core.Resources;
using FedMesh.Core.Store.Local;

namespace FedMesh.E2E;

/// <summary>
/// <c>fedmesh failover simulate</c> against a federation home whose stores hold known policies, endpoints and link
/// status: no processes, so the output is exact.
/// </summary>
public sealed class FailoverSimulateGoldenTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("fedmesh-simulate-").FullName;

    [Fact]
    public async Task Simulate_EachClusterDown_MatchesGoldenFiles()
    {
        await PrepareAsync();

        foreach (var (file, args) in new (string, string[])[]
        {
            ("simulate-down-east.txt", ["--down", "east"]),
            ("simulate-down-west.txt", ["--down", "west"]),
            ("simulate-down-north-api.txt", ["--down", "north", "api"]),
            ("simulate-down-north.txt", ["--down", "north"]),
        })
        {
            var r = await Cli.RunAsync(_home, TimeSpan.FromMinutes(1), ["failover", "simulate", .. args]);
            Assert.True(r.ExitCode == 0, r.ToString());
            Golden.Assert(file, r.Stdout);
        }
    }

    [Fact]
    public async Task Simulate_UnknownCluster_UsageErrorNamingTheClusters()
    {
        await PrepareAsync();
        var r = await Cli.RunAsync(_home, TimeSpan.FromMinutes(1), "failover", "simulate", "--down", "mars");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("cluster 'mars' is not in the federation; known clusters: east, west, north", r.Stderr);
    }

    /// <summary>
    /// East steers echo to [east, west, north] (west 1 of 2 mirrored endpoints ready) and api to [east, north, west]
    /// minHealthyPercent 70 and maxSpillPercent 30 (east 2 of 3 ready: degraded); both links alive; west steers echo to [west, east] with east not linked.
    /// </summary>
    private async Task PrepareAsync()
    {
        var paths = new FederationPaths(_home);
        var config = new FederationConfig();
        foreach (var name in new[] { "east", "west", "north" })
            config.Clusters.Add(new ClusterConfig { Name = name, Store = $"clusters/{name}/store" });
        FederationConfigFile.Save(config, paths.ConfigFile);
        using (var east = new LocalClusterStore("east", paths.StoreDirectory(config.Clusters[0])))
        {
            await east.CreateAsync(Policy("echo", "echo", 50, 100, "east", "west", "north"));
            await east.CreateAsync(Policy("api", "api", 70, 30, "east", "north", "west"));
            await east.CreateAsync(Set("echo", true, true));
            await east.CreateAsync(Set("echo-west", true, false));
            await east.CreateAsync(Set("echo-north", true));
            await east.CreateAsync(Set("api", true, true, false));
            await east.CreateAsync(Set("api-north", true));
            await east.CreateAsync(Set("api-west", false));
            await east.CreateAsync(Link("west", alive: true));
            await east.CreateAsync(Link("north", alive: true));
        }
        using (var west = new LocalClusterStore("west", paths.StoreDirectory(config.Clusters[1])))
        {
            await west.CreateAsync(Policy("echo", "echo", 50, 100, "west", "east"));
            await west.CreateAsync(Set("echo", true));
        }
    }

    private static FailoverPolicy Policy(string name, string service, int minHealthy, int maxSpill, params string[] targets)
    {
        var policy = new FailoverPolicy
        {
            Spec = new FailoverPolicySpec
            {
                Service = service,
                Targets = targets.Select(t => new FailoverTarget { Cluster = t }).ToList(),
                Trigger = new FailoverTrigger { MinHealthyPercent = minHealthy },
                MaxSpillPercent = maxSpill,
            },
        };
        policy.Metadata.Name = name;
        policy.Metadata.Namespace = ObjectMeta.DefaultNamespace;
        return policy;
    }

    private static Endpoints Set(string name, params bool[] ready)
    {
        var set = new Endpoints { Spec = new EndpointsSpec { Endpoints = ready.Select((r, i) => new EndpointEntry { Address = $"127.0.0.1:{1000 + i}", Ready = r }).ToList() } };
        set.Metadata.Name = name;
        set.Metadata.Namespace = ObjectMeta.DefaultNamespace;
        return set;
    }

    private static Link Link(string target, bool alive)
    {
        var link = new Link
        {
            Spec = new LinkSpec { TargetCluster = target, GatewayAddress = "127.0.0.1:1", GatewayIdentity = $"spiffe://fedmesh.local/cluster/{target}/ns/fedmesh-system/sa/gateway", Mirror = true },
            Status = new LinkStatus { Alive = alive },
        };
        link.Metadata.Name = target;
        link.Metadata.Namespace = WellKnown.SystemNamespace;
        return link;
    }

    public void Dispose()
    {
        try { Directory.Delete(_home, recursive: true); } catch (IOException) { }
    }
}

/// <summary>Golden files under tests/FedMesh.E2E/golden: compared line by line ignoring trailing blanks; FEDMESH_UPDATE_GOLDEN=1 rewrites them.</summary>
internal static class Golden
{
    public static void Assert(string name, string actual)
    {
        var path = Path.Combine(Cli.RepoRoot, "tests", "FedMesh.E2E", "golden", name);
        var normalized = string.Join("\n", actual.Replace("\r\n", "\n").TrimEnd('\n').Split('\n').Select(l => l.TrimEnd())) + "\n";
        if (Environment.GetEnvironmentVariable("FEDMESH_UPDATE_GOLDEN") == "1") File.WriteAllText(path, normalized);
        Xunit.Assert.True(File.Exists(path), $"golden file {path} is missing; run with FEDMESH_UPDATE_GOLDEN=1 to create it, then review it");
        Xunit.Assert.Equal(File.ReadAllText(path), normalized);
    }
}
