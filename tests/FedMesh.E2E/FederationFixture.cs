using System.Diagnostics;
using System.Text.Json;

namespace FedMesh.E2E;

/// <summary>
/// A two-cluster local federation (examples/local/two-clusters.yaml) started once with
/// <c>fedmesh up --detach</c> in a fresh home, shared by the tests of the "federation" collection
/// and stopped with <c>fedmesh down</c> at the end.
/// </summary>
public sealed class FederationFixture : IAsyncLifetime
{
    public string Home { get; } = Path.Combine(Path.GetTempPath(), "fedmesh-e2e-" + Guid.NewGuid().ToString("N")[..8]);
    public TimeSpan UpTime { get; private set; }
    internal Cli.Result Up { get; private set; } = null!;

    /// <summary>Receives the parts' spans (OTLP/HTTP), so tests can follow a trace across processes.</summary>
    public OtlpSink Otlp { get; } = new();

    public async Task InitializeAsync()
    {
        var clock = Stopwatch.StartNew();
        await Otlp.StartAsync();
        Up = await Cli.RunAsync(Home, TimeSpan.FromMinutes(3), new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.Endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "5000",
        }, "up", "--detach");
        UpTime = clock.Elapsed;
        if (Up.ExitCode != 0) throw new InvalidOperationException("fedmesh up --detach failed: " + Up + "\n" + Logs());
    }

    public async Task DisposeAsync()
    {
        await Cli.RunAsync(Home, TimeSpan.FromMinutes(1), "down");
        await Otlp.DisposeAsync();
        try { Directory.Delete(Home, recursive: true); } catch (IOException) { }
    }

    internal Task<Cli.Result> RunAsync(params string[] args) => Cli.RunAsync(Home, TimeSpan.FromMinutes(2), args);

    /// <summary>`fedmesh status -o json`, parsed.</summary>
    public async Task<JsonElement> StatusAsync()
    {
        var r = await RunAsync("status", "-o", "json");
        Assert.True(r.ExitCode == 0, r.ToString());
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    public static IEnumerable<JsonElement> Parts(JsonElement status, string cluster) =>
        status.GetProperty("clusters").EnumerateArray().Single(c => c.GetProperty("name").GetString() == cluster).GetProperty("parts").EnumerateArray();

    public static JsonElement Part(JsonElement status, string cluster, string kind) =>
        Parts(status, cluster).First(p => p.GetProperty("kind").GetString() == kind);

    public async Task<string> OutboundAsync(string cluster) =>
        Part(await StatusAsync(), cluster, "proxy").GetProperty("addresses").GetProperty("outbound").GetString()!;

    /// <summary>The tail of every part's log, for failure messages.</summary>
    public string Logs() => LogsOf(Home);

    /// <summary>
    /// The last <paramref name="lines"/> of each part's log of the federation in <paramref name="home"/>: every part's, or
    /// those whose log's name starts with one of <paramref name="prefixes"/> (<c>cluster_part</c>, e.g. <c>north_gateway</c>).
    /// </summary>
    public static string LogsOf(string home, int lines = 15, params string[] prefixes)
    {
        var dir = Path.Combine(home, "run", "logs");
        if (!Directory.Exists(dir)) return "(no logs)";
        return string.Join("\n", Directory.GetFiles(dir).Order()
            .Where(f => prefixes.Length == 0 || prefixes.Any(p => Path.GetFileName(f).StartsWith(p, StringComparison.Ordinal)))
            .Select(f => $"--- {Path.GetFileName(f)}\n" + string.Join("\n", File.ReadLines(f).TakeLast(lines))));
    }
}

[CollectionDefinition("federation")]
public sealed class FederationCollection : ICollectionFixture<FederationFixture>;
