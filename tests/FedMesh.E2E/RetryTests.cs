using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FedMesh.Tests.Shared;
using Xunit.Abstractions;

namespace FedMesh.E2E;

/// <summary>
/// Retries on real processes: east's proxy sends echo.default to east's echo, with west's as failover target, so a
/// retry always has somewhere else to go. The echos count what reaches them (<c>/_echo/stats</c>), so a request
/// that was sent twice is seen twice.
/// </summary>
[Collection("federation")]
public sealed class RetryTests(FederationFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(30);

    // Below the proxy's failure-accrual threshold (7 in a row eject an endpoint): every one of them reaches east's
    // echo first, so a retry, if one happened, would reach west's.
    private const int Subjects = 6;

    [Fact]
    public async Task Post_BackendAnswers500_ReachesBackendExactlyOnce()
    {
        await using var setup = await Setup.StartAsync(federation);
        await setup.FailAsync(east: 1, west: 0);

        for (var i = 0; i < Subjects; i++)
        {
            var (status, cluster) = await setup.SendAsync(HttpMethod.Post, new string('p', 100));
            Assert.True(status == 500 && cluster == "east", $"POST {i}: {status} from {cluster}; a POST must be answered by the first backend, 500 and all");
        }
        var (east, west) = await setup.StatsAsync();
        output.WriteLine($"{Subjects} POSTs sent; east saw {east.Posts}, west saw {west.Posts}");
        Assert.Equal(Subjects, east.Posts);
        Assert.Equal(0, west.Posts);

        // The same failure with a GET is retried on west: retries are possible here, POSTs just never get one.
        var (getStatus, getCluster) = await setup.SendAsync(HttpMethod.Get, null);
        Assert.True(getStatus == 200 && getCluster == "west", $"a GET after the same 500 should be retried on west; got {getStatus} from {getCluster}");
    }

    [Fact]
    public async Task BodyOver64KiB_BackendAnswers500_NeverRetried()
    {
        await using var setup = await Setup.StartAsync(federation);
        await setup.FailAsync(east: 1, west: 0);
        var large = new string('b', 64 * 1024 + 1);

        for (var i = 0; i < Subjects; i++)
        {
            var method = i % 2 == 0 ? HttpMethod.Get : HttpMethod.Put;
            var (status, cluster) = await setup.SendAsync(method, large);
            Assert.True(status == 500 && cluster == "east", $"{method} {i} with {large.Length} bytes: {status} from {cluster}; a body over 64 KiB must not be retried");
        }
        var (east, west) = await setup.StatsAsync();
        output.WriteLine($"{Subjects} GET/PUT with {large.Length}-byte bodies; east saw {east.Requests}, west saw {west.Requests}");
        Assert.Equal(Subjects, east.Requests);
        Assert.Equal(0, west.Requests);

        // Exactly 64 KiB is buffered and retried on west.
        var (status64, cluster64) = await setup.SendAsync(HttpMethod.Put, new string('b', 64 * 1024));
        Assert.True(status64 == 200 && cluster64 == "west", $"a PUT of exactly 64 KiB should be retried on west; got {status64} from {cluster64}");
    }

    [Fact]
    public async Task EveryBackendFailing_ExtraAttemptsWithinBudget()
    {
        await using var setup = await Setup.StartAsync(federation);
        await setup.FailAsync(east: 1, west: 1);

        const int perSecond = 100;
        var run = TimeSpan.FromSeconds(8);
        await using (var load = new LoadGenerator(setup.Outbound, "http://echo.default/", perSecond))
        {
            while (load.Now < run)
                await Task.Delay(100);
            await load.DisposeAsync();
            var answers = load.Answers.ToList();
            // Let the last attempts land before counting.
            await Task.Delay(500);
            var (east, west) = await setup.StatsAsync();
            var sent = answers.Count;
            var arrived = east.Gets + west.Gets;
            var extra = arrived - sent;
            // Budget: 20 % of requests plus 10 retries/s, counted over a 10 s window (its reserve may be spent at once).
            var bound = (0.2 * sent) + (10 * Math.Max(run.TotalSeconds, 10));
            output.WriteLine($"{sent} GETs in {run.TotalSeconds:0} s against two echos failing 100 %: {arrived} attempts reached them (east {east.Gets}, west {west.Gets}), {extra} extra; budget {bound:0}");
            Assert.True(extra >= 0, $"fewer attempts ({arrived}) than requests ({sent}): the echos did not count every request");
            Assert.True(extra <= bound, $"{extra} extra attempts for {sent} requests exceeds the retry budget ({bound:0})");
            Assert.All(answers, a => Assert.Equal(500, a.Status));
        }
    }

    /// <summary>Link east→west, policy echo: [east, west], stats reset; undone (faults too) on dispose.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly FederationFixture _federation;
        private readonly HttpClient _proxy;
        private readonly HttpClient _direct = new() { Timeout = TimeSpan.FromSeconds(5) };

        private Setup(FederationFixture federation, string outbound, string eastApp, string westApp)
        {
            _federation = federation;
            Outbound = outbound;
            EastApp = eastApp;
            WestApp = westApp;
            _proxy = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://{outbound}"), UseProxy = true }) { Timeout = TimeSpan.FromSeconds(10) };
        }

        public string Outbound { get; }
        private string EastApp { get; }
        private string WestApp { get; }

        public static async Task<Setup> StartAsync(FederationFixture federation)
        {
            var status = await federation.StatusAsync();
            string App(string cluster) => FederationFixture.Part(status, cluster, "echo").GetProperty("addresses").GetProperty("app").GetString()!;
            var setup = new Setup(federation, FederationFixture.Part(status, "east", "proxy").GetProperty("addresses").GetProperty("outbound").GetString()!, App("east"), App("west"));
            Assert.Equal(0, (await federation.RunAsync("link", "east", "west")).ExitCode);
            var policy = Path.Combine(federation.Home, "retry-echo.yaml");
            await File.WriteAllTextAsync(policy, """
                apiVersion: fedmesh.io/v1alpha1
                kind: FailoverPolicy
                metadata: { name: echo, namespace: default }
                spec:
                  service: echo
                  targets: [{ cluster: east }, { cluster: west }]
                  failback: { after: 1s }
                """);
            var applied = await federation.RunAsync("failover", "apply", "-f", policy, "--cluster", "east");
            Assert.True(applied.ExitCode == 0, applied.ToString());
            // Both targets in east's routes, and east's echo taking traffic again (an earlier test may have ejected it).
            await Eventually.ValueAsync(() => Cli.CurlAsync(setup.Outbound, "http://echo-west.default/", TimeSpan.FromSeconds(5)), r => r.Status == 200, "echo-west reachable", Converge, Cli.Poll);
            await setup.FailAsync(0, 0);
            await Eventually.ValueAsync(() => setup.SendAsync(HttpMethod.Get, null), r => r.Status == 200 && r.Cluster == "east", "echo answered by east", Converge, Cli.Poll);
            return setup;
        }

        /// <summary>Sets both echos' error rates and resets their counters.</summary>
        public async Task FailAsync(double east, double west)
        {
            foreach (var (app, rate) in new[] { (EastApp, east), (WestApp, west) })
            {
                using (var r = await _direct.PutAsync($"http://{app}/_echo/config?errorRate={rate.ToString(System.Globalization.CultureInfo.InvariantCulture)}", null))
                    r.EnsureSuccessStatusCode();
                using (var r = await _direct.PostAsync($"http://{app}/_echo/stats/reset", null))
                    r.EnsureSuccessStatusCode();
            }
        }

        public async Task<(int Status, string? Cluster)> SendAsync(HttpMethod method, string? body)
        {
            using var request = new HttpRequestMessage(method, "http://echo.default/retry");
            if (body is not null)
                request.Content = new StringContent(body); // known length: Content-Length is sent
            using var response = await _proxy.SendAsync(request);
            await response.Content.ReadAsStringAsync();
            return ((int)response.StatusCode, response.Headers.TryGetValues("x-fedmesh-upstream-cluster", out var v) ? v.First() : null);
        }

        public async Task<(Stats East, Stats West)> StatsAsync() => (await StatsAsync(EastApp), await StatsAsync(WestApp));

        private async Task<Stats> StatsAsync(string app)
        {
            var json = JsonDocument.Parse(await _direct.GetStringAsync($"http://{app}/_echo/stats")).RootElement;
            return new Stats(json.GetProperty("requests").GetInt64(), json.GetProperty("gets").GetInt64(), json.GetProperty("posts").GetInt64());
        }

        public async ValueTask DisposeAsync()
        {
            try { await FailAsync(0, 0); } catch (HttpRequestException) { }
            await _federation.RunAsync("delete", "failoverpolicy", "echo", "--cluster", "east");
            await _federation.RunAsync("unlink", "east", "west");
            _proxy.Dispose();
            _direct.Dispose();
        }
    }

    private sealed record Stats(long Requests, long Gets, long Posts);
}
