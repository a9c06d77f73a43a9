using System.Diagnostics;
using System.Text.Json;
using FedMesh.Tests.Shared;
using Xunit.Abstractions;

namespace FedMesh.E2E;

/// <summary>
/// The native data plane in a real local federation: with <c>fedmesh-dataplane</c> next to fedmesh, every workload
/// proxy and gateway runs as it, they carry traffic across clusters, a proxy comes back native after a crash, and
/// <c>down</c> stops them.
/// </summary>
[Collection("native-dataplane")]
public sealed class NativeDataPlaneTests(NativeDataPlaneFixture dataPlane, ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);
    private static readonly string[] Clusters = ["east", "west"];

    [Fact]
    public async Task UpLinkKillDown_ProxiesAndGatewaysRunNativeServeAcrossClustersAndComeBackNative()
    {
        output.WriteLine($"published the native data plane in {dataPlane.PublishTime.TotalSeconds:0} s");
        var home = Path.Combine(Path.GetTempPath(), "fedmesh-e2e-native-home-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var clock = Stopwatch.StartNew();
            var up = await RunAsync(home, TimeSpan.FromMinutes(3), "up", "--detach");
            Assert.True(up.ExitCode == 0, up + "\n" + FederationFixture.LogsOf(home));
            output.WriteLine($"up --detach: ready after {clock.Elapsed.TotalSeconds:0.0} s");

            var status = await StatusAsync(home);
            var pids = new List<int> { status.GetProperty("supervisorPid").GetInt32() };
            foreach (var cluster in Clusters)
            {
                var proxy = FederationFixture.Part(status, cluster, "proxy").GetProperty("pid").GetInt32();
                var gateway = FederationFixture.Part(status, cluster, "gateway").GetProperty("pid").GetInt32();
                AssertNative(proxy, "proxy", $"{cluster}'s proxy");
                AssertNative(gateway, "gateway", $"{cluster}'s gateway");
                // The control plane still runs in fedmesh, from the same copy.
                var controller = FederationFixture.Part(status, cluster, "controller").GetProperty("pid").GetInt32();
                Assert.Equal(Path.Combine(dataPlane.Bin, "fedmesh"), Executable(controller));
                pids.AddRange(FederationFixture.Parts(status, cluster).Select(p => p.GetProperty("pid").GetInt32()));
                output.WriteLine($"{cluster}: native proxy pid {proxy} RSS {Rss(proxy)}; native gateway pid {gateway} RSS {Rss(gateway)}");
            }

            var link = await RunAsync(home, TimeSpan.FromMinutes(2), "link", "east", "west");
            Assert.True(link.ExitCode == 0, link.ToString());
            var outbound = FederationFixture.Part(status, "east", "proxy").GetProperty("addresses").GetProperty("outbound").GetString()!;
            var answer = await ReachWestAsync(home, outbound, "east -> echo-west through the native proxy and west's native gateway");
            var body = JsonDocument.Parse(answer.Body).RootElement;
            Assert.Equal("echo-west-0", body.GetProperty("instance").GetString());
            Assert.StartsWith("spiffe://fedmesh.local/cluster/east/", body.GetProperty("caller").GetString());

            var victim = FederationFixture.Part(status, "east", "proxy").GetProperty("pid").GetInt32();
            using (var process = Process.GetProcessById(victim)) process.Kill(); // SIGKILL: no chance to clean up
            var restarted = await Eventually.ValueAsync(async () => FederationFixture.Part(await StatusAsync(home), "east", "proxy"),
                p => p.GetProperty("pid").GetInt32() is var pid && pid > 0 && pid != victim && p.GetProperty("ready").GetBoolean(),
                "east's proxy restarted and ready", Converge, Cli.Poll);
            var successor = restarted.GetProperty("pid").GetInt32();
            pids.Add(successor);
            output.WriteLine($"east's proxy: killed pid {victim}, restarted as pid {successor}");
            AssertNative(successor, "proxy", "east's restarted proxy");
            await ReachWestAsync(home, outbound, "traffic through the restarted native proxy");

            var down = await RunAsync(home, TimeSpan.FromMinutes(1), "down");
            Assert.True(down.ExitCode == 0, down.ToString());
            foreach (var pid in pids) Assert.False(Alive(pid), $"pid {pid} still running after down");
            var after = await StatusAsync(home);
            Assert.All(Clusters.SelectMany(c => FederationFixture.Parts(after, c)), p => Assert.Equal("stopped", p.GetProperty("status").GetString()));
        }
        finally
        {
            await RunAsync(home, TimeSpan.FromMinutes(1), "down");
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task BusyPolling_ProxiesAndGatewaysStartedWithAWindow_CatchAnswersByPolling_AndCountIt()
    {
        var home = Path.Combine(Path.GetTempPath(), "fedmesh-e2e-native-poll-" + Guid.NewGuid().ToString("N")[..8]);
        var polling = new Dictionary<string, string> { ["FEDMESH_BUSY_POLL_US"] = "1000" };
        try
        {
            var up = await Cli.RunDllAsync(dataPlane.Dll, home, TimeSpan.FromMinutes(3), polling, "up", "--detach");
            Assert.True(up.ExitCode == 0, up + "\n" + FederationFixture.LogsOf(home));
            var link = await RunAsync(home, TimeSpan.FromMinutes(2), "link", "east", "west");
            Assert.True(link.ExitCode == 0, link.ToString());
            var status = await StatusAsync(home);
            var proxy = FederationFixture.Part(status, "east", "proxy");
            AssertNative(proxy.GetProperty("pid").GetInt32(), "proxy", "east's proxy");
            Assert.Contains("FEDMESH_BUSY_POLL_US=1000", File.ReadAllText($"/proc/{proxy.GetProperty("pid").GetInt32()}/environ").Split('\0'));
            var outbound = proxy.GetProperty("addresses").GetProperty("outbound").GetString()!;
            await ReachWestAsync(home, outbound, "east -> echo-west through the polling proxy and gateway");

            // Requests one after another on one kept-alive connection: each goes out from the proxy's loop, which then
            // expects the answer; so does the gateway's, for the hop to west's workload. Whether an answer comes within
            // a window is the machine's timing (a loaded one misses, then backs off up to 64 waits at a time), so batches
            // go on until both have caught one, for at most 30 s.
            using var client = new HttpClient();
            var parts = new[] { ("east", "proxy"), ("west", "gateway") };
            var caught = new Dictionary<string, (double Hits, double Misses, string Metrics)>();
            var clock = Stopwatch.StartNew();
            do
            {
                for (var i = 0; i < 200; i++)
                {
                    using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{outbound}/");
                    request.Headers.Host = "echo-west.default";
                    using var response = await client.SendAsync(request);
                    Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
                }
                foreach (var (cluster, part) in parts)
                {
                    var admin = FederationFixture.Part(status, cluster, part).GetProperty("addresses").GetProperty("admin").GetString()!;
                    var metrics = await client.GetStringAsync($"http://{admin}/metrics");
                    caught[$"{cluster}'s {part}"] = (Counter(metrics, "fedmesh_busy_polls_total", "outcome=\"hit\""),
                        Counter(metrics, "fedmesh_busy_polls_total", "outcome=\"miss\""), metrics);
                }
            }
            while (caught.Values.Any(c => c.Hits <= 0) && clock.Elapsed < TimeSpan.FromSeconds(30));
            foreach (var (what, (hits, misses, metrics)) in caught)
            {
                output.WriteLine($"{what}: busy-poll hits {hits}, misses {misses}");
                Assert.True(hits > 0, $"{what} caught no answer by polling in {clock.Elapsed.TotalSeconds:0} s:\n{metrics}");
            }
        }
        finally
        {
            await RunAsync(home, TimeSpan.FromMinutes(1), "down");
            try { Directory.Delete(home, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>The value of the Prometheus sample of <paramref name="name"/> whose labels include <paramref name="label"/>; -1 when none.</summary>
    private static double Counter(string metrics, string name, string label) =>
        metrics.Split('\n').Where(l => l.StartsWith(name + "{", StringComparison.Ordinal) && l.Contains(label, StringComparison.Ordinal))
            .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).First();

    private Task<Cli.Result> RunAsync(string home, TimeSpan timeout, params string[] args) =>
        Cli.RunDllAsync(dataPlane.Dll, home, timeout, null, args);

    private async Task<JsonElement> StatusAsync(string home)
    {
        var r = await RunAsync(home, TimeSpan.FromMinutes(1), "status", "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    /// <summary>The first answer from west's echo through <paramref name="outbound"/>; the parts' logs if none comes.</summary>
    private static async Task<(int Status, string Headers, string Body)> ReachWestAsync(string home, string outbound, string what)
    {
        try
        {
            return await Eventually.ValueAsync(() => Cli.CurlAsync(outbound, "http://echo-west.default/", TimeSpan.FromSeconds(5)),
                r => r.Status == 200 && r.Body.Contains("\"cluster\":\"west\"", StringComparison.Ordinal), what, Converge, Cli.Poll);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException(e.Message + "\n" + FederationFixture.LogsOf(home), e);
        }
    }

    /// <summary>The process is the published data plane running <paramref name="kind"/>, given the options that came after <c>component KIND</c>.</summary>
    private void AssertNative(int pid, string kind, string what)
    {
        Assert.True(pid > 0, $"{what} has no pid");
        Assert.Equal(dataPlane.NativeDataPlane, Executable(pid));
        var argv = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(argv.Length > 2 && argv[1] == kind && argv[2].StartsWith("--", StringComparison.Ordinal), $"{what}: unexpected command line {string.Join(' ', argv)}");
    }

    /// <summary>What /proc/PID/exe points at: the executable the process runs.</summary>
    private static string? Executable(int pid) => File.ResolveLinkTarget($"/proc/{pid}/exe", returnFinalTarget: false)?.FullName;

    /// <summary>Running, not a zombie waiting to be reaped.</summary>
    private static bool Alive(int pid)
    {
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].TrimStart().StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    private static string Rss(int pid) =>
        File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal))?.Split(':')[1].Trim() ?? "?";
}
