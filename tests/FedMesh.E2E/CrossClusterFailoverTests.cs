using FedMesh.Tests.Shared;
using Xunit.Abstractions;

namespace FedMesh.E2E;

/// <summary>
/// Three clusters, east's echo steered to [west, north]: west's gateway is killed (connection refused) or frozen
/// with SIGSTOP (a black hole) under steady GET load through east's proxy. The link must turn not-alive and the
/// traffic move to north without a failed request: GETs are retried on north while the verdict is pending.
/// </summary>
[Collection("three-clusters")]
public sealed class CrossClusterFailoverTests(ThreeClusterFixture mesh, ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(20);
    private const int PerSecond = 50;

    [Fact]
    public async Task WestGatewayKilled_LinkNotAliveAndGetsMoveToNorth_NoneFailed()
    {
        await OnWestAsync();
        try
        {
            await MeasureAsync("refused (stop-part)", async () =>
            {
                var stop = await mesh.RunAsync("stop-part", "west/gateway");
                Assert.True(stop.ExitCode == 0, stop.ToString());
            });
        }
        finally
        {
            await mesh.RunAsync("start-part", "west/gateway");
        }
        await OnWestAsync(); // and back after failback
    }

    [Fact]
    public async Task WestGatewayFrozen_LinkNotAliveAndGetsMoveToNorth_NoneFailed()
    {
        await OnWestAsync();
        var pid = GatewayPid(await mesh.StatusAsync());
        try
        {
            await MeasureAsync("black hole (SIGSTOP)", () => ThreeClusterFixture.SignalAsync(pid, "STOP"));
        }
        finally
        {
            await ThreeClusterFixture.SignalAsync(pid, "CONT");
        }
        // Frozen is not dead: the supervisor must not have restarted it.
        Assert.Equal(pid, GatewayPid(await mesh.StatusAsync()));
        await OnWestAsync();
    }

    private async Task MeasureAsync(string what, Func<Task> breakWest)
    {
        await using var load = new LoadGenerator(mesh.Outbound, "http://echo.default/", PerSecond);
        await Eventually.TrueAsync(() => load.Answers.Count(a => a.Cluster == "west") >= PerSecond, "load answered by west", Converge, Cli.Poll);

        var brokenAt = load.Now;
        await breakWest();
        var brokenBy = load.Now; // west's gateway is gone or frozen by now
        var notAlive = await Eventually.ValueAsync(() => mesh.LinkAliveAsync("west"), a => a == false, "link east→west not alive", Converge, Cli.Poll);
        var notAliveAt = load.Now - brokenAt;
        // Then until two seconds of answers all come from north.
        await Eventually.TrueAsync(() =>
        {
            var recent = load.Answers.Where(a => a.At > load.Now - TimeSpan.FromSeconds(2.5) && a.At < load.Now - TimeSpan.FromSeconds(0.5)).ToList();
            return recent.Count > 0 && recent.All(a => a.Cluster == "north");
        }, "every answer from north", Converge, Cli.Poll);
        await load.DisposeAsync();

        var answers = load.Answers.ToList();
        // West's answers already under way when it broke, their bodies cut: no proxy can save a response it has begun to
        // pass on (the echo's chunked body ends with a second write, which a freeze can come between). Any other failed.
        var cut = answers.Where(a => a.Status == 0 && a.Cluster == "west" && a.HeadAt < brokenBy).ToList();
        var failed = answers.Where(a => a.Status != 200).Except(cut).ToList();
        var lastNotNorth = answers.Where(a => a.At >= brokenAt && a.Cluster != "north").Select(a => a.At - brokenAt).DefaultIfEmpty(TimeSpan.Zero).Max();
        var slowest = answers.Where(a => a.At >= brokenAt - TimeSpan.FromSeconds(1)).Select(a => a.Took).DefaultIfEmpty(TimeSpan.Zero).Max();
        var lastFailed = failed.Select(a => a.At - brokenAt).DefaultIfEmpty(TimeSpan.Zero).Max();
        if (failed.Count > 0) // the hops the failed requests crossed: what they logged, before the lines below
            output.WriteLine(mesh.Logs(8, "east_echo", "north_gateway", "north_echo"));
        output.WriteLine($"{what}: {answers.Count} GETs at {PerSecond}/s, {failed.Count} failed (last {lastFailed.TotalSeconds:0.00}s after), {cut.Count} cut under way; link not-alive seen after {notAliveAt.TotalSeconds:0.0}s; last answer not from north sent {lastNotNorth.TotalSeconds:0.00}s after the break; slowest answer {slowest.TotalSeconds:0.00}s");
        foreach (var c in cut)
            output.WriteLine($"  cut under way: sent {(c.At - brokenAt).TotalSeconds:0.00}s after the break, its head from west {(c.HeadAt - brokenAt)!.Value.TotalSeconds:0.000}s after, west down {(brokenBy - brokenAt).TotalSeconds:0.000}s after: {c.Error}");
        foreach (var f in failed.Take(5))
            output.WriteLine($"  failed, sent {(f.At - brokenAt).TotalSeconds:0.00}s after the break{(f.HeadAt is { } h ? $", its head {(h - brokenAt).TotalSeconds:0.000}s after" : "")}: {f.Status} from {f.Cluster ?? "?"}: {f.Error}");
        Assert.Empty(failed);
        Assert.True(lastNotNorth < Converge, $"traffic still reached west {lastNotNorth.TotalSeconds:0.0}s after the break");
    }

    /// <summary>West's gateway alive and east's echo traffic on west (the policy's first target).</summary>
    private async Task OnWestAsync()
    {
        await Eventually.ValueAsync(() => mesh.LinkAliveAsync("west"), a => a == true, "link east→west alive", Converge, Cli.Poll);
        await Eventually.ValueAsync(async () =>
        {
            var answers = new List<string?>();
            for (var i = 0; i < 5; i++)
                answers.Add(Cluster((await Cli.CurlAsync(mesh.Outbound, "http://echo.default/", TimeSpan.FromSeconds(5))).Headers));
            return answers;
        }, a => a.All(c => c == "west"), "echo answered by west", Converge, Cli.Poll);
    }

    private static string? Cluster(string headers) =>
        headers.Split("\r\n").Where(h => h.StartsWith("x-fedmesh-upstream-cluster:", StringComparison.OrdinalIgnoreCase))
            .Select(h => h[(h.IndexOf(':') + 1)..].Trim()).FirstOrDefault();

    private static int GatewayPid(System.Text.Json.JsonElement status) =>
        FederationFixture.Part(status, "west", "gateway").GetProperty("pid").GetInt32();
}
