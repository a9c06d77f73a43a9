using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Xunit.Abstractions;
using FedMesh.Tests.Shared;

namespace FedMesh.E2E;

/// <summary>
/// Issue 5 on the running federation: a real Prometheus scrapes every part, `fedmesh latency` sees added app
/// latency while probes stay fast, and a client's trace id reaches the proxy's and the gateway's spans.
/// </summary>
[Collection("federation")]
public sealed class TelemetryTests(FederationFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Prometheus_ScrapesEveryPart_MetricsValidAndCrossClusterCountMatchesRequestsSent()
    {
        var client = await LinkedClientAsync();
        var status = await federation.StatusAsync();
        var targets = new Dictionary<string, List<string>>();
        foreach (var cluster in new[] { "east", "west" })
            foreach (var part in FederationFixture.Parts(status, cluster))
                if (part.GetProperty("addresses").TryGetProperty("admin", out var admin))
                {
                    var job = "fedmesh-" + part.GetProperty("kind").GetString();
                    (targets.TryGetValue(job, out var list) ? list : targets[job] = []).Add(admin.GetString()!);
                }
        Assert.Equal(6, targets.Values.Sum(t => t.Count));

        foreach (var target in targets.Values.SelectMany(t => t))
        {
            var text = await client.Direct.GetStringAsync($"http://{target}/metrics");
            var check = await RunAsync("promtool", ["check", "metrics"], text);
            Assert.True(check.Exit == 0, $"promtool check metrics failed for {target}:\n{check.Output}");
            // The runtime's own figures ride along: bytes allocated (what bench/dataplane divides per request) and working set.
            Assert.Contains("dotnet_gc_heap_total_allocated_bytes_total", text);
            Assert.Contains("dotnet_process_memory_working_set_bytes", text);
        }

        await using var prometheus = await PrometheusProcess.StartAsync(targets, output);
        await Eventually.TrueAsync(async () => await prometheus.ScalarAsync("count(up == 1)") == 6, "every part scraped (up == 1)", Converge, Cli.Poll);

        const string east = "source_cluster=\"east\",destination_cluster=\"west\"";
        var proxyQuery = $"sum(fedmesh_requests_total{{job=\"fedmesh-proxy\",{east}}}) or vector(0)";
        var gatewayQuery = $"sum(fedmesh_requests_total{{job=\"fedmesh-gateway\",{east}}}) or vector(0)";
        var histogramQuery = $"sum(fedmesh_request_duration_seconds_count{{job=\"fedmesh-proxy\",{east}}}) or vector(0)";
        // A fixed baseline (not a bare sleep for a result): wait two scrape intervals so it holds everything sent before.
        await Task.Delay(2500);
        var before = (await prometheus.ScalarAsync(proxyQuery), await prometheus.ScalarAsync(gatewayQuery), await prometheus.ScalarAsync(histogramQuery));

        const int sent = 37;
        for (var i = 0; i < sent; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.Mesh.GetAsync("http://echo-west.default/prom")).StatusCode);

        await Eventually.TrueAsync(async () => await prometheus.ScalarAsync(proxyQuery) - before.Item1 == sent,
            $"east proxy's fedmesh_requests_total east->west grew by {sent}", Converge, Cli.Poll);
        Assert.Equal(sent, await prometheus.ScalarAsync(histogramQuery) - before.Item3);
        await Eventually.TrueAsync(async () => await prometheus.ScalarAsync(gatewayQuery) - before.Item2 == sent,
            $"west gateway's fedmesh_requests_total east->west grew by {sent}", Converge, Cli.Poll);
        var rate = await prometheus.ScalarAsync($"sum(rate(fedmesh_requests_total{{job=\"fedmesh-proxy\",{east}}}[1m]))");
        Assert.True(rate > 0, $"rate over 1m is {rate}");
        Assert.Equal(1, await prometheus.ScalarAsync("sum(fedmesh_link_mirrored_services{job=\"fedmesh-controller\",source_cluster=\"east\",target_cluster=\"west\"})"));
    }

    [Fact]
    public async Task Latency_With50msAddedToWestEcho_RequestP50Shows50msOverThePathsOwnWhileProbesStayFast()
    {
        var client = await LinkedClientAsync();
        // What the path itself costs right now, seen by the client (on a busy machine every hop is slower): the
        // reported p50 may exceed the added 50 ms by that, plus the histogram's 5 ms buckets around 50-65 ms.
        var own = new List<double>();
        for (var i = 0; i < 21; i++)
        {
            var timing = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await client.Mesh.GetAsync("http://echo-west.default/fast")).StatusCode);
            own.Add(timing.Elapsed.TotalMilliseconds);
        }
        var ownP50 = own.Order().ElementAt(own.Count / 2);
        output.WriteLine($"the path's own p50 from the client: {ownP50:0.0} ms");
        await Task.Delay(TimeSpan.FromSeconds(4)); // out of the report window below
        var westApp = FederationFixture.Part(await federation.StatusAsync(), "west", "echo").GetProperty("addresses").GetProperty("app").GetString();
        var configure = await client.Direct.PutAsync($"http://{westApp}/_echo/config?latencyMs=50", null);
        Assert.True(configure.IsSuccessStatusCode, await configure.Content.ReadAsStringAsync());
        try
        {
            const int sent = 80;
            var sending = Stopwatch.StartNew();
            for (var i = 0; i < sent; i++)
                Assert.Equal(HttpStatusCode.OK, (await client.Mesh.GetAsync("http://echo-west.default/slow")).StatusCode);

            var entry = await Eventually.ValueAsync(async () =>
            {
                // A window just wide enough for these requests keeps earlier tests' (fast) traffic out of the p50.
                var window = $"{(int)sending.Elapsed.TotalSeconds + 3}s";
                var r = await federation.RunAsync("latency", "--window", window, "-o", "json");
                Assert.True(r.ExitCode == 0, r.ToString());
                var report = JsonDocument.Parse(r.Stdout).RootElement;
                return (Report: r.Stdout, Entry: report.GetProperty("requests").EnumerateArray()
                    .FirstOrDefault(e => e.GetProperty("service").GetString() == "echo-west" && e.GetProperty("sourceCluster").GetString() == "east"
                        && e.GetProperty("destinationCluster").GetString() == "west"));
            }, x => x.Entry.ValueKind == JsonValueKind.Object && x.Entry.GetProperty("requests").GetUInt64() >= sent, "latency report with the requests sent", Converge, Cli.Poll);
            output.WriteLine(entry.Report);
            var p50 = entry.Entry.GetProperty("p50Ms").GetDouble();
            Assert.InRange(p50, 50, 65 + ownP50);
            Assert.Equal(100, entry.Entry.GetProperty("successRate").GetDouble());

            var probe = JsonDocument.Parse(entry.Report).RootElement.GetProperty("probes").EnumerateArray()
                .Single(p => p.GetProperty("source").GetString() == "east" && p.GetProperty("target").GetString() == "west");
            if (probe.TryGetProperty("alive", out var alive) && alive.GetBoolean())
                Assert.InRange(probe.GetProperty("p50Ms").GetDouble(), 0, 10); // the gateway's probe path does not reach the app
            else
                output.WriteLine("no prober has written east->west probe results yet; probe latency not checked");
        }
        finally
        {
            await client.Direct.PutAsync($"http://{westApp}/_echo/config?latencyMs=0", null);
        }
    }

    [Fact]
    public async Task Trace_ClientTraceparent_SameTraceIdInProxyAndGatewaySpansAndAtTheApp()
    {
        var client = await LinkedClientAsync();
        var traceId = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://echo-west.default/traced");
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.NextInt64()))}-01");
        var response = await client.Mesh.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        // The app (after east proxy, west gateway and west proxy) received the same trace.
        var atApp = JsonDocument.Parse(body).RootElement.GetProperty("traceparent").GetString();
        Assert.StartsWith($"00-{traceId}-", atApp);

        await Eventually.TrueAsync(() =>
        {
            var services = federation.Otlp.ServicesWithTrace(traceId);
            return services.Contains("fedmesh-proxy") && services.Contains("fedmesh-gateway");
        }, $"spans of trace {traceId} exported by a proxy and a gateway", Converge, Cli.Poll);
    }

    private sealed record Clients(HttpClient Mesh, HttpClient Direct);

    /// <summary>Links east and west (both ways) and returns a keep-alive client through east's proxy, once echo-west answers.</summary>
    private async Task<Clients> LinkedClientAsync()
    {
        await federation.RunAsync("link", "east", "west");
        var outbound = await federation.OutboundAsync("east");
        var mesh = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://{outbound}"), UseProxy = true }) { Timeout = TimeSpan.FromSeconds(10) };
        var direct = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        await Eventually.TrueAsync(async () => (await mesh.GetAsync("http://echo-west.default/")).StatusCode == HttpStatusCode.OK, "echo-west reachable from east", Converge, Cli.Poll);
        return new Clients(mesh, direct);
    }

    internal static async Task<(int Exit, string Output)> RunAsync(string file, string[] args, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(cts.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}

/// <summary>A real Prometheus on loopback scraping the given jobs every second, with its own temporary storage.</summary>
internal sealed class PrometheusProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    private PrometheusProcess(Process process, string dir, string address)
    {
        _process = process;
        _dir = dir;
        _http.BaseAddress = new Uri($"http://{address}/");
    }

    public static async Task<PrometheusProcess> StartAsync(IReadOnlyDictionary<string, List<string>> jobs, ITestOutputHelper output)
    {
        var dir = Directory.CreateTempSubdirectory("fedmesh-prom-").FullName;
        var config = new System.Text.StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n");
        foreach (var (job, targets) in jobs)
            config.Append($"  - job_name: {job}\n    static_configs:\n      - targets: [{string.Join(", ", targets.Select(t => $"'{t}'"))}]\n");
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), config.ToString());
        output.WriteLine(config.ToString());
        var address = $"127.0.0.1:{LoopbackPort.Free()}";
        var psi = new ProcessStartInfo("prometheus") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { $"--config.file={Path.Combine(dir, "prometheus.yml")}", $"--storage.tsdb.path={Path.Combine(dir, "data")}", $"--web.listen-address={address}" })
            psi.ArgumentList.Add(a);
        var process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start prometheus (apt-get install prometheus)");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var prometheus = new PrometheusProcess(process, dir, address);
        await Eventually.TrueAsync(async () => (await prometheus._http.GetAsync("-/ready")).IsSuccessStatusCode, "prometheus ready", TimeSpan.FromSeconds(30), Cli.Poll);
        return prometheus;
    }

    /// <summary>Evaluates an instant PromQL query that yields one sample; NaN when it yields none.</summary>
    public async Task<double> ScalarAsync(string query)
    {
        var json = await _http.GetStringAsync("api/v1/query?query=" + Uri.EscapeDataString(query));
        var result = JsonDocument.Parse(json).RootElement.GetProperty("data").GetProperty("result");
        if (result.GetArrayLength() == 0) return double.NaN;
        return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill();
        await _process.WaitForExitAsync();
        _process.Dispose();
        _http.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }
}
