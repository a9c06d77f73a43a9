using System.Diagnostics;
using System.Net;
using System.Text.Json;
using FedMesh.Tests.Shared;
using Xunit.Abstractions;

namespace FedMesh.E2E;

/// <summary>The README's tour, end to end, on real processes: link, mirror, a request across, unlink, restarts.</summary>
[Collection("federation")]
public sealed class FederationTourTests(FederationFixture federation, ITestOutputHelper output)
{
    private static readonly TimeSpan Converge = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Status_AfterUpDetach_ListsEveryPartReadyWithPidsAndAddresses()
    {
        output.WriteLine($"up --detach took {federation.UpTime.TotalSeconds:0.0} s");
        var status = await federation.StatusAsync();
        foreach (var cluster in new[] { "east", "west" })
        {
            var parts = FederationFixture.Parts(status, cluster).ToList();
            Assert.Equal(["controller", "echo", "gateway", "proxy"], parts.Select(p => p.GetProperty("kind").GetString()!).Order().ToArray());
            foreach (var part in parts)
            {
                Assert.True(part.GetProperty("ready").GetBoolean(), $"{cluster}/{part.GetProperty("name")} not ready");
                Assert.True(part.GetProperty("pid").GetInt32() > 0);
                Assert.True(Process.GetProcessById(part.GetProperty("pid").GetInt32()) is not null);
            }
            var outbound = FederationFixture.Part(status, cluster, "proxy").GetProperty("addresses").GetProperty("outbound").GetString();
            Assert.Matches(@"^127\.0\.0\.1:\d+$", outbound);
        }
    }

    [Fact]
    public async Task LinkCurlUnlink_RequestCrossesThroughWestGatewayThenUnknownAfterUnlink()
    {
        var outbound = await federation.OutboundAsync("east");
        var link = await federation.RunAsync("link", "east", "west");
        Assert.True(link.ExitCode == 0, link.ToString());
        var linked = Stopwatch.StartNew();

        // The first request that works after `link` returned: how long the mirror takes to reach the proxy.
        var answer = await Eventually.ValueAsync(() => Cli.CurlAsync(outbound, "http://echo-west.default/", TimeSpan.FromSeconds(5)),
            r => r.Status == 200, "east -> echo-west through the mesh", Converge, Cli.Poll);
        output.WriteLine($"first cross-cluster success {linked.ElapsedMilliseconds} ms after link returned");
        var body = JsonDocument.Parse(answer.Body).RootElement;
        Assert.Equal("west", body.GetProperty("cluster").GetString());
        Assert.Equal("echo-west-0", body.GetProperty("instance").GetString());
        // West's gateway verified east's certificate and passed its identity on.
        Assert.StartsWith("spiffe://fedmesh.local/cluster/east/", body.GetProperty("caller").GetString());

        var services = await federation.RunAsync("get", "services", "--cluster", "east");
        Assert.True(services.ExitCode == 0, services.ToString());
        var row = services.Stdout.Split('\n').Single(l => l.Contains(" echo-west "));
        Assert.Contains("west/echo", row);

        var unlink = await federation.RunAsync("unlink", "east", "west");
        Assert.True(unlink.ExitCode == 0, unlink.ToString());
        var refused = await Eventually.ValueAsync(() => Cli.CurlAsync(outbound, "http://echo-west.default/", TimeSpan.FromSeconds(5)),
            r => r.Status != 200, "unknown service after unlink", TimeSpan.FromSeconds(10), Cli.Poll);
        Assert.Equal(502, refused.Status);
        Assert.Contains("unknown-service", refused.Headers);
        Assert.Contains("echo-west", refused.Body);
    }

    [Fact]
    public async Task OneWayLink_OnlyFirstClusterMirrors()
    {
        try
        {
            // The tests share one federation: an earlier test's two-way link may still be leaving west's routes.
            var westOutbound = await federation.OutboundAsync("west");
            await Eventually.ValueAsync(() => Cli.CurlAsync(westOutbound, "http://echo-east/", TimeSpan.FromSeconds(5)),
                r => r.Status == 502, "west knows no echo-east before the one-way link", Converge, Cli.Poll);
            var link = await federation.RunAsync("link", "east", "west", "--one-way");
            Assert.True(link.ExitCode == 0, link.ToString());
            var east = await federation.RunAsync("get", "services", "--cluster", "east", "-o", "json");
            var west = await federation.RunAsync("get", "services", "--cluster", "west", "-o", "json");
            Assert.Contains("\"echo-west\"", east.Stdout);
            Assert.DoesNotContain("\"echo-east\"", west.Stdout);
            var ok = await Eventually.ValueAsync(() => Cli.CurlAsync(federation.OutboundAsync("east").Result, "http://echo-west/", TimeSpan.FromSeconds(5)),
                r => r.Status == 200, "one-way east -> west", Converge, Cli.Poll);
            var fromWest = await Cli.CurlAsync(westOutbound, "http://echo-east/", TimeSpan.FromSeconds(5));
            Assert.Equal(502, fromWest.Status);
        }
        finally
        {
            await federation.RunAsync("unlink", "east", "west");
        }
    }

    [Fact]
    public async Task H2cAndHttp11_OnTheOneOutboundPort_CrossToWestInTheirOwnProtocol()
    {
        // gRPC clients speak HTTP/2 with prior knowledge (h2c): the app sends it to the same outbound port as
        // HTTP/1.1, and it reaches west's app (which serves both on one port) still as HTTP/2.
        var link = await federation.RunAsync("link", "east", "west");
        Assert.True(link.ExitCode == 0, link.ToString());
        try
        {
            var outbound = await federation.OutboundAsync("east");
            using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(5) };
            foreach (var (version, protocol) in new[] { (HttpVersion.Version20, "HTTP/2"), (HttpVersion.Version11, "HTTP/1.1") })
            {
                var answer = await Eventually.ValueAsync(() => SendAsync(http, outbound, version),
                    a => a.Status == 200, $"east -> echo-west over {protocol}\n{federation.Logs()}", Converge, Cli.Poll);
                Assert.Equal(version, answer.Version);
                Assert.Equal(protocol, answer.AppSaw);
                Assert.Equal("west", JsonDocument.Parse(answer.Body).RootElement.GetProperty("cluster").GetString());
            }
        }
        finally
        {
            await federation.RunAsync("unlink", "east", "west");
        }
    }

    [Fact]
    public async Task ManyH2cConnections_WithStreamsAtOnce_EachAnswerIsItsOwnRequests()
    {
        // Eight caller connections, twenty streams each at once, across clusters: the proxy and the gateway relay the
        // reads of many connections in one turn of their socket loop, and what every read makes for the one pooled
        // upstream connection goes out together; each answer must still be its own request's.
        var link = await federation.RunAsync("link", "east", "west");
        Assert.True(link.ExitCode == 0, link.ToString());
        try
        {
            var outbound = await federation.OutboundAsync("east");
            var clients = Enumerable.Range(0, 8).Select(_ => new HttpClient(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(20) }).ToList();
            try
            {
                await Eventually.ValueAsync(() => SendAsync(clients[0], outbound, HttpVersion.Version20),
                    a => a.Status == 200, $"east -> echo-west over HTTP/2\n{federation.Logs()}", Converge, Cli.Poll);
                for (var round = 0; round < 5; round++)
                {
                    var sent = clients.SelectMany((client, c) => Enumerable.Range(0, 20).Select(async s =>
                    {
                        var path = $"/many/{round}/{c}/{s}";
                        var answer = await SendAsync(client, outbound, HttpVersion.Version20, path);
                        return (path, answer);
                    })).ToList();
                    foreach (var (path, answer) in await Task.WhenAll(sent))
                    {
                        Assert.True(answer.Status == 200, $"{path}: {answer.Status} {answer.Body}");
                        Assert.Equal(HttpVersion.Version20, answer.Version);
                        var body = JsonDocument.Parse(answer.Body).RootElement;
                        Assert.Equal(path, body.GetProperty("path").GetString());
                        Assert.Equal("west", body.GetProperty("cluster").GetString());
                    }
                }
            }
            finally
            {
                clients.ForEach(c => c.Dispose());
            }
        }
        finally
        {
            await federation.RunAsync("unlink", "east", "west");
        }
    }

    private static async Task<(int Status, Version? Version, string? AppSaw, string Body)> SendAsync(HttpClient http, string outbound, Version version, string path = "/grpc-like")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{outbound}{path}")
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact, // HTTP/2 over http:// is prior knowledge
        };
        request.Headers.Host = "echo-west.default";
        try
        {
            using var response = await http.SendAsync(request);
            var saw = response.Headers.TryGetValues("x-echo-protocol", out var values) ? values.Single() : null;
            return ((int)response.StatusCode, response.Version, saw, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException e)
        {
            return (0, null, null, e.Message);
        }
    }

    [Theory]
    [InlineData("east", "controller")]
    [InlineData("west", "gateway")]
    [InlineData("east", "proxy")]
    [InlineData("west", "echo")]
    [InlineData("west", "controller")]
    public async Task KillAnyPart_ItIsRestartedAndTrafficFlowsAgain(string cluster, string kind)
    {
        var link = await federation.RunAsync("link", "east", "west");
        Assert.True(link.ExitCode == 0, link.ToString());
        try
        {
            var victim = FederationFixture.Part(await federation.StatusAsync(), cluster, kind).GetProperty("pid").GetInt32();
            Process.GetProcessById(victim).Kill();
            var restarted = await Eventually.ValueAsync(async () => FederationFixture.Part(await federation.StatusAsync(), cluster, kind),
                p => p.GetProperty("pid").GetInt32() != victim && p.GetProperty("ready").GetBoolean(), $"{cluster}/{kind} restarted", Converge, Cli.Poll);
            output.WriteLine($"{cluster}/{kind}: pid {victim} -> {restarted.GetProperty("pid").GetInt32()}");
            var outbound = await federation.OutboundAsync("east");
            await Eventually.ValueAsync(() => Cli.CurlAsync(outbound, "http://echo-west.default/", TimeSpan.FromSeconds(5)),
                r => r.Status == 200 && r.Body.Contains("\"cluster\":\"west\""), $"traffic after restarting {cluster}/{kind}\n{federation.Logs()}", Converge, Cli.Poll);
            var services = await federation.RunAsync("get", "services", "--cluster", "east");
            Assert.Contains("echo-west", services.Stdout);
        }
        finally
        {
            await federation.RunAsync("unlink", "east", "west");
        }
    }
}
