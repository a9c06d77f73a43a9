using System.Diagnostics;
using System.Text.Json;
using FedMesh.Tests.Shared;
using Xunit.Abstractions;

namespace FedMesh.E2E;

/// <summary>Canary traffic across clusters on real processes: shifts, progressive rollouts, rollback, bad input, restarts.</summary>
[Collection("federation")]
public sealed class CanaryTests(FederationFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(40);
    private const string Url = "http://echo.default/";

    [Fact]
    public async Task Shift_To20Percent_ObservedShareOver2000RequestsIsWithin3Points()
    {
        await WithLinkAsync(async () =>
        {
            var shift = await federation.RunAsync("canary", "shift", "echo", "--to", "echo@west", "--weight", "20", "--cluster", "east");
            Assert.True(shift.ExitCode == 0, shift.ToString());
            Assert.Contains("echo@east=80 echo@west=20", shift.Stdout);
            await WaitForWeightAsync("echo-west", 20);

            var (byCluster, failures) = await CanaryLoad.CountAsync(await federation.OutboundAsync("east"), Url, 2000);
            var west = byCluster.GetValueOrDefault("west");
            output.WriteLine($"2000 requests: east={byCluster.GetValueOrDefault("east")} west={west} failures={failures}");
            Assert.Equal(0, failures);
            Assert.InRange(100.0 * west / 2000, 17, 23);

            var splits = await federation.RunAsync("get", "splits", "--cluster", "east");
            Assert.Contains("echo@east=80 echo@west=20", splits.Stdout);
            Assert.Contains("Manual", splits.Stdout);
        });
    }

    [Fact]
    public async Task Start_HealthyCanary_StepsUpAndPromotes()
    {
        await WithLinkAsync(async () =>
        {
            await using var load = new CanaryLoad(await federation.OutboundAsync("east"), Url);
            var start = await federation.RunAsync("canary", "start", "echo", "--to", "echo@west", "--step", "25", "--max", "50",
                "--interval", "2s", "--min-success", "99", "--max-p99", "500ms", "--threshold", "3", "--cluster", "east");
            Assert.True(start.ExitCode == 0, start.ToString());
            var status = await WaitForPhaseAsync("Promoted", load);
            Assert.Equal(100, Weight(status, "echo@west"));
            var history = status.GetProperty("history").EnumerateArray().Select(h => h.GetString()!).ToList();
            Assert.Contains(history, h => h.Contains("started: echo@west -> 25%"));
            Assert.Contains(history, h => h.Contains("step: echo@west 25% -> 50%"));
            Assert.Contains(history, h => h.Contains("promoted"));
            await WaitForWeightAsync("echo-west", 100);
        });
    }

    [Fact]
    public async Task Start_CanaryFailingTenPercent_RollsBackByItselfAndStatusNamesTheFailedCheck()
    {
        var westEcho = FederationFixture.Part(await federation.StatusAsync(), "west", "echo").GetProperty("addresses").GetProperty("app").GetString();
        await WithLinkAsync(async () =>
        {
            await SetErrorRateAsync(westEcho!, "0.1");
            try
            {
                await using var load = new CanaryLoad(await federation.OutboundAsync("east"), Url);
                var start = await federation.RunAsync("canary", "start", "echo", "--to", "echo@west", "--step", "25", "--max", "50",
                    "--interval", "2s", "--min-success", "99", "--threshold", "2", "--cluster", "east");
                Assert.True(start.ExitCode == 0, start.ToString());
                var status = await WaitForPhaseAsync("RolledBack", load);
                Assert.Equal(0, Weight(status, "echo@west"));
                Assert.Contains("failed: success rate", status.GetProperty("lastAnalysis").GetString());

                var table = await federation.RunAsync("canary", "status", "echo", "--cluster", "east");
                Assert.True(table.ExitCode == 0, table.ToString());
                output.WriteLine(table.Stdout);
                Assert.Contains("phase RolledBack", table.Stdout);
                Assert.Contains("failed: success rate", table.Stdout);
                await WaitForWeightAsync("echo-west", 0);
            }
            finally
            {
                await SetErrorRateAsync(westEcho!, "0");
            }
        });
    }

    [Fact]
    public async Task Start_ControllerKilledMidway_RolloutResumesFromStoredPhaseAndPromotes()
    {
        await WithLinkAsync(async () =>
        {
            await using var load = new CanaryLoad(await federation.OutboundAsync("east"), Url);
            var start = await federation.RunAsync("canary", "start", "echo", "--to", "echo@west", "--step", "25", "--max", "75",
                "--interval", "2s", "--min-success", "99", "--threshold", "5", "--cluster", "east");
            Assert.True(start.ExitCode == 0, start.ToString());
            await Eventually.ValueAsync(StatusJsonAsync, s => Weight(s, "echo@west") >= 50, $"canary at 50 % ({load})", Converge, Cli.Poll);

            var victim = FederationFixture.Part(await federation.StatusAsync(), "east", "controller").GetProperty("pid").GetInt32();
            Process.GetProcessById(victim).Kill();
            await Eventually.ValueAsync(async () => FederationFixture.Part(await federation.StatusAsync(), "east", "controller"),
                p => p.GetProperty("pid").GetInt32() != victim && p.GetProperty("ready").GetBoolean(), "east controller restarted", Converge, Cli.Poll);

            var status = await WaitForPhaseAsync("Promoted", load);
            var history = status.GetProperty("history").EnumerateArray().Select(h => h.GetString()!).ToList();
            output.WriteLine(string.Join("\n", history));
            Assert.Single(history, h => h.Contains("started:"));
            Assert.Contains(history, h => h.Contains("50% -> 75%"));
        });
    }

    [Fact]
    public async Task BadInput_ZeroSumNegativeAndMissingBackends_ClearErrorsAndNothingChanged()
    {
        var before = await federation.RunAsync("get", "splits", "--cluster", "east", "-o", "json");
        var file = Path.Combine(federation.Home, "bad-split.yaml");
        string Split(string backends) => $"apiVersion: fedmesh.io/v1alpha1\nkind: TrafficSplit\nmetadata:\n  name: echo\nspec:\n  service: echo\n  backends:\n{backends}";

        await File.WriteAllTextAsync(file, Split("    - service: echo\n      weight: 0\n    - service: echo\n      cluster: west\n      weight: 0\n"));
        var zero = await federation.RunAsync("apply", "-f", file, "--cluster", "east");
        Assert.Equal(1, zero.ExitCode);
        Assert.Contains("sum to 0", zero.Stderr);

        await File.WriteAllTextAsync(file, Split("    - service: echo\n      weight: -10\n    - service: echo\n      cluster: west\n      weight: 20\n"));
        var negative = await federation.RunAsync("apply", "-f", file, "--cluster", "east");
        Assert.Equal(1, negative.ExitCode);
        Assert.Contains("weight: must be between 0 and 100 (got -10)", negative.Stderr);
        Assert.Contains(file + ":9:", negative.Stderr);

        await File.WriteAllTextAsync(file, Split("    - service: nosuch\n      weight: 50\n    - service: echo\n      cluster: north\n      weight: 50\n"));
        var missing = await federation.RunAsync("apply", "-f", file, "--cluster", "east");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("service 'nosuch' does not exist in cluster east", missing.Stderr);
        Assert.Contains("cluster 'north' is not linked to east; run 'fedmesh link east north' first", missing.Stderr);
        Assert.Contains("nothing changed", missing.Stderr);

        var unlinked = await federation.RunAsync("canary", "shift", "echo", "--to", "echo@north", "--weight", "20", "--cluster", "east");
        Assert.Equal(1, unlinked.ExitCode);
        Assert.Contains("cluster 'north' is not linked to east", unlinked.Stderr);
        var tooMuch = await federation.RunAsync("canary", "shift", "echo", "--to", "echo@west", "--weight", "120", "--cluster", "east");
        Assert.Equal(2, tooMuch.ExitCode);
        Assert.Contains("--weight must be between 0 and 100 (got 120)", tooMuch.Stderr);
        var noSplit = await federation.RunAsync("canary", "promote", "nosuch", "--cluster", "east");
        Assert.Equal(1, noSplit.ExitCode);
        Assert.Contains("no TrafficSplit routes service 'nosuch'", noSplit.Stderr);

        var after = await federation.RunAsync("get", "splits", "--cluster", "east", "-o", "json");
        Assert.Equal(before.Stdout, after.Stdout);
    }

    private async Task WithLinkAsync(Func<Task> body)
    {
        var link = await federation.RunAsync("link", "east", "west");
        Assert.True(link.ExitCode == 0, link.ToString());
        try
        {
            await Eventually.TrueAsync(async () => (await federation.RunAsync("get", "services", "echo-west", "--cluster", "east")).ExitCode == 0, "echo-west mirrored into east", Converge, Cli.Poll);
            await body();
        }
        finally
        {
            await federation.RunAsync("delete", "trafficsplits", "echo", "--cluster", "east");
            await federation.RunAsync("unlink", "east", "west");
        }
    }

    private async Task<JsonElement> StatusJsonAsync()
    {
        var r = await federation.RunAsync("canary", "status", "echo", "--cluster", "east", "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    private Task<JsonElement> WaitForPhaseAsync(string phase, CanaryLoad load) =>
        Eventually.ValueAsync(StatusJsonAsync, s => s.GetProperty("phase").GetString() == phase, $"phase {phase} (load: {load})", Converge, Cli.Poll);

    private static int Weight(JsonElement status, string backend) =>
        status.GetProperty("backends").EnumerateArray().Single(b => b.GetProperty("backend").GetString() == backend).GetProperty("weight").GetInt32();

    /// <summary>Waits until east's proxy has applied a route for echo giving <paramref name="route"/> that weight (its admin /routes).</summary>
    private async Task WaitForWeightAsync(string route, int weight)
    {
        var admin = FederationFixture.Part(await federation.StatusAsync(), "east", "proxy").GetProperty("addresses").GetProperty("admin").GetString();
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        await Eventually.TrueAsync(async () =>
        {
            var routes = JsonDocument.Parse(await client.GetStringAsync($"http://{admin}/routes")).RootElement.GetProperty("routes");
            return routes.EnumerateArray().Any(r => r.GetProperty("service").GetString() == "echo.default"
                && r.GetProperty("backends").EnumerateArray().Any(b => b.GetProperty("service").GetString() == route && b.GetProperty("weight").GetInt32() == weight));
        }, $"east proxy routes {route} at {weight}", Converge, Cli.Poll);
    }

    private static async Task SetErrorRateAsync(string app, string rate)
    {
        using var client = new HttpClient();
        using var response = await client.PutAsync($"http://{app}/_echo/config?errorRate={rate}", null);
        response.EnsureSuccessStatusCode();
    }
}
