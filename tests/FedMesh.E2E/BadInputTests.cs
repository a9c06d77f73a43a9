using System.Security.Cryptography;

namespace FedMesh.E2E;

/// <summary>Bad input gets a clear error naming what and where, and changes nothing.</summary>
[Collection("federation")]
public sealed class BadInputTests(FederationFixture federation)
{
    public static TheoryData<string, string, string> Malformed => new()
    {
        { "broken.yaml", "apiVersion: fedmesh.io/v1alpha1\nkind: TrafficSplit\nmetadata:\n  name: web\n spec: [\n", "broken.yaml:" },
        { "unknown-field.yaml", "apiVersion: fedmesh.io/v1alpha1\nkind: TrafficSplit\nmetadata:\n  name: web\nspec:\n  service: web\n  colour: blue\n  backends:\n    - service: web\n      weight: 100\n", "unknown-field.yaml:15:3" },
        { "missing.yaml", "apiVersion: fedmesh.io/v1alpha1\nkind: FailoverPolicy\nmetadata:\n  name: echo\nspec:\n  targets:\n    - cluster: east\n", "missing.yaml:" },
        { "weight.yaml", "apiVersion: fedmesh.io/v1alpha1\nkind: TrafficSplit\nmetadata:\n  name: web\nspec:\n  service: web\n  backends:\n    - service: web\n      weight: 80\n    - service: web\n      cluster: west\n      weight: 120\n", "weight.yaml:20:7" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Apply_MalformedFile_ExitsOneWithPositionAndStoreUnchanged(string name, string content, string position)
    {
        var dir = Directory.CreateTempSubdirectory("fedmesh-bad-").FullName;
        var file = Path.Combine(dir, name);
        // A valid document first (8 lines, so positions below are shifted by 8): it must not be
        // written either, since the file as a whole is bad.
        await File.WriteAllTextAsync(file, "apiVersion: v1\nkind: Service\nmetadata:\n  name: should-not-exist\nspec:\n  ports:\n    - port: 80\n---\n" + content);
        var before = StoreFingerprint();
        var result = await federation.RunAsync("apply", "-f", file, "--cluster", "east");
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(Path.GetFileName(position.Split(':')[0]), result.Stderr);
        Assert.Matches(@":\d+:\d+", result.Stderr);
        Assert.Contains(position, result.Stderr);
        Assert.Equal(before, StoreFingerprint());
    }

    [Fact]
    public async Task Link_UnknownCluster_ExitsOneNamingIt()
    {
        var result = await federation.RunAsync("link", "east", "nowhere");
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("nowhere", result.Stderr);
        Assert.Contains("east", result.Stderr);
    }

    [Fact]
    public async Task UnknownOption_ExitsTwo()
    {
        var result = await federation.RunAsync("status", "--no-such-option");
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task Up_BadBusyPollWindow_ExitsTwoNamingItAndCreatesNothing()
    {
        var home = Path.Combine(Path.GetTempPath(), "fedmesh-e2e-busypoll-" + Guid.NewGuid().ToString("N")[..8]);
        var result = await Cli.RunAsync(home, TimeSpan.FromMinutes(1), new Dictionary<string, string> { ["FEDMESH_BUSY_POLL_US"] = "5ms" }, "up", "--detach");
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("FEDMESH_BUSY_POLL_US '5ms' is not a busy-poll window: give whole microseconds from 0 (off) to 1000", result.Stderr);
        Assert.False(Directory.Exists(home), $"{home} was created");
    }

    /// <summary>Every file of every cluster's store with its hash (a change anywhere changes it).</summary>
    private string StoreFingerprint()
    {
        var root = Path.Combine(federation.Home, "clusters");
        var files = Directory.GetFiles(root, "*.yaml", SearchOption.AllDirectories).Where(f => f.Contains("/store/")).Order();
        return string.Join("\n", files.Select(f => f + " " + Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))));
    }
}
