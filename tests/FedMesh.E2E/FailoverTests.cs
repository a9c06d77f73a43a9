using System.Diagnostics;
using FedMesh.Tests.Shared;
using Xunit.Abstractions;

namespace FedMesh.E2E;

/// <summary>Failover between east and west on real processes: a local service dies and comes back under steady load.</summary>
[Collection("federation")]
public sealed class FailoverTests(FederationFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Failback = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task LocalEchoStopped_EveryGetAnsweredByWest_ThenBackToEastAfterFailback()
    {
        var outbound = await federation.OutboundAsync("east");
        Assert.Equal(0, (await federation.RunAsync("link", "east", "west")).ExitCode);
        var policy = Path.Combine(federation.Home, "failover-echo.yaml");
        await File.WriteAllTextAsync(policy, $"""
            apiVersion: fedmesh.io/v1alpha1
            kind: FailoverPolicy
            metadata: {"{"} name: echo, namespace: default {"}"}
            spec:
              service: echo
              targets: [{"{"} cluster: east {"}"}, {"{"} cluster: west {"}"}]
              failback: {"{"} after: {(int)Failback.TotalSeconds}s {"}"}
            """);
        try
        {
            var applied = await federation.RunAsync("failover", "apply", "-f", policy, "--cluster", "east");
            Assert.True(applied.ExitCode == 0, applied.ToString());
            // Before the load: west's mirror is routable and the policy's status names east.
            await Eventually.ValueAsync(() => Cli.CurlAsync(outbound, "http://echo-west.default/", TimeSpan.FromSeconds(5)), r => r.Status == 200, "echo-west reachable", Converge, Cli.Poll);
            await Eventually.ValueAsync(() => federation.RunAsync("failover", "status", "echo", "--cluster", "east"),
                r => r.Stdout.Contains("active:   east"), "policy active on east", Converge, Cli.Poll);

            await using var load = new LoadGenerator(outbound, "http://echo.default/", 50);
            await Task.Delay(TimeSpan.FromSeconds(2));
            var stop = await federation.RunAsync("stop-part", "east/echo-east-0");
            Assert.True(stop.ExitCode == 0, stop.ToString());
            var stoppedAt = load.Now; // stop-part returns once the process has exited
            await Eventually.ValueAsync(() => federation.RunAsync("failover", "status", "echo", "--cluster", "east"),
                r => r.Stdout.Contains("active:   west"), "controller moved echo to west", Converge, Cli.Poll);
            await Task.Delay(TimeSpan.FromSeconds(2));
            var afterStop = load.Answers.Where(a => a.At > stoppedAt).ToList();
            Assert.NotEmpty(afterStop);

            var startedAt = load.Now;
            Assert.Equal(0, (await federation.RunAsync("start-part", "east/echo-east-0")).ExitCode);
            var back = await Eventually.ValueAsync(async () => { await Task.CompletedTask; return load.Answers.Where(a => a.At > startedAt && a.Cluster == "east").Select(a => a.At).DefaultIfEmpty(TimeSpan.Zero).Min(); },
                at => at > TimeSpan.Zero, "traffic back on east", Converge, Cli.Poll);
            await Task.Delay(TimeSpan.FromSeconds(1));
            await load.DisposeAsync();

            var all = load.Answers.ToList();
            var failed = all.Where(a => a.Status != 200).ToList();
            output.WriteLine($"{all.Count} GETs, {failed.Count} failed; east stopped at {stoppedAt.TotalSeconds:0.0}s, restarted at {startedAt.TotalSeconds:0.0}s, first east answer again at {back.TotalSeconds:0.0}s");
            foreach (var f in failed.Take(5))
                output.WriteLine($"  failed at {f.At.TotalSeconds:0.00}s: {f.Status} {f.Error}");
            Assert.Empty(failed);
            // While east's echo was down, every request was answered by west.
            Assert.All(afterStop.Where(a => a.At < startedAt), a => Assert.Equal("west", a.Cluster));
            // Failback waits for east to be healthy for failback.after (plus probe and push time).
            Assert.True(back - startedAt >= Failback, $"traffic returned to east after {(back - startedAt).TotalSeconds:0.0}s, before failback.after {Failback.TotalSeconds}s");
        }
        finally
        {
            await federation.RunAsync("start-part", "east/echo-east-0");
            await federation.RunAsync("delete", "failoverpolicy", "echo", "--cluster", "east");
            await federation.RunAsync("unlink", "east", "west");
        }
    }
}
