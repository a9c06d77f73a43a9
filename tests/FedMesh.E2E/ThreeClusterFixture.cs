using System.Diagnostics;
using System.Text.Json;

namespace FedMesh.E2E;

/// <summary>
/// examples/local/three-clusters.yaml started with <c>fedmesh up -f … --detach</c> in its own home, east linked to
/// west and north, and east's echo steered by a FailoverPolicy with targets [west, north]. Stopped with
/// <c>fedmesh down</c> at the end.
/// </summary>
public sealed class ThreeClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan Failback = TimeSpan.FromSeconds(2);

    public string Home { get; } = Path.Combine(Path.GetTempPath(), "fedmesh-e2e3-" + Guid.NewGuid().ToString("N")[..8]);

    public string Outbound { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var up = await Cli.RunAsync(Home, TimeSpan.FromMinutes(3), "up", "-f", Path.Combine(Cli.RepoRoot, "examples", "local", "three-clusters.yaml"), "--detach");
        if (up.ExitCode != 0) throw new InvalidOperationException("fedmesh up -f three-clusters.yaml failed: " + up);
        foreach (var peer in new[] { "west", "north" })
        {
            var link = await RunAsync("link", "east", peer);
            if (link.ExitCode != 0) throw new InvalidOperationException($"fedmesh link east {peer} failed: {link}");
        }
        var policy = Path.Combine(Home, "failover-west-north.yaml");
        await File.WriteAllTextAsync(policy, $$"""
            apiVersion: fedmesh.io/v1alpha1
            kind: FailoverPolicy
            metadata: { name: echo, namespace: default }
            spec:
              service: echo
              targets: [{ cluster: west }, { cluster: north }]
              failback: { after: {{(int)Failback.TotalSeconds}}s }
            """);
        var applied = await RunAsync("failover", "apply", "-f", policy, "--cluster", "east");
        if (applied.ExitCode != 0) throw new InvalidOperationException("failover apply failed: " + applied);
        Outbound = FederationFixture.Part(await StatusAsync(), "east", "proxy").GetProperty("addresses").GetProperty("outbound").GetString()!;
    }

    public async Task DisposeAsync()
    {
        await Cli.RunAsync(Home, TimeSpan.FromMinutes(1), "down");
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { }
    }

    internal Task<Cli.Result> RunAsync(params string[] args) => Cli.RunAsync(Home, TimeSpan.FromMinutes(2), args);

    public async Task<JsonElement> StatusAsync()
    {
        var r = await RunAsync("status", "-o", "json");
        if (r.ExitCode != 0) throw new InvalidOperationException(r.ToString());
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    /// <summary>status.alive of east's link to <paramref name="target"/> (null while unknown).</summary>
    public async Task<bool?> LinkAliveAsync(string target)
    {
        var r = await RunAsync("get", "links", "--cluster", "east", "-o", "json");
        if (r.ExitCode != 0) throw new InvalidOperationException(r.ToString());
        var link = JsonDocument.Parse(r.Stdout).RootElement.GetProperty("items").EnumerateArray()
            .Single(l => l.GetProperty("spec").GetProperty("targetCluster").GetString() == target);
        return link.TryGetProperty("status", out var s) && s.TryGetProperty("alive", out var a) && a.ValueKind != JsonValueKind.Null ? a.GetBoolean() : null;
    }

    /// <summary>Sends a signal with kill(1): SIGSTOP freezes a part without ending it, so the supervisor leaves it be.</summary>
    public static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, pid.ToString() }, UseShellExecute = false })!;
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill -{signal} {pid} failed ({kill.ExitCode})");
    }

    /// <summary>The tail of the parts' logs, for failure messages (<see cref="FederationFixture.LogsOf"/>).</summary>
    public string Logs(int lines = 15, params string[] prefixes) => FederationFixture.LogsOf(Home, lines, prefixes);
}

/// <summary>Runs alone, after the parallel collections: its timings must not share two cores with other load tests.</summary>
[CollectionDefinition("three-clusters", DisableParallelization = true)]
public sealed class ThreeClusterCollection : ICollectionFixture<ThreeClusterFixture>;
