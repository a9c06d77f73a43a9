using System.Net;
using System.Net.Http.Headers;
using System.Text;
using FedMesh.Core.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace FedMesh.Core.Tests.Telemetry;

public sealed class DurationExpositionTests
{
    private const string Family = DurationExposition.Family;

    [Fact]
    public void Write_PerStatusClass_CumulativeBucketsSumAndCountWithTheExportersLabels()
    {
        var recorder = new RequestStatsRecorder();
        var cell = recorder.Cell(new RequestKey("default", "web", "web-west", "east", "west"));
        cell.Record(200, 0.03);  // bucket le 5E-05
        cell.Record(204, 2.5);   // bucket le 0.0025
        cell.Record(503, 40);
        var text = new StringBuilder();

        DurationExposition.Write(text, [cell], openMetrics: false);

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"# TYPE {Family} histogram", lines[0]);
        Assert.StartsWith($"# HELP {Family} ", lines[1]);
        const string ok = "otel_scope_name=\"FedMesh\",otel_scope_version=\"1.0\",backend=\"web-west\",destination_cluster=\"west\","
            + "namespace=\"default\",service=\"web\",source_cluster=\"east\",status_class=\"2xx\"";
        Assert.Contains($"{Family}_bucket{{{ok},le=\"2.5E-05\"}} 0", lines);
        Assert.Contains($"{Family}_bucket{{{ok},le=\"5E-05\"}} 1", lines);
        Assert.Contains($"{Family}_bucket{{{ok},le=\"0.002\"}} 1", lines);
        Assert.Contains($"{Family}_bucket{{{ok},le=\"0.0025\"}} 2", lines);
        Assert.Contains($"{Family}_bucket{{{ok},le=\"+Inf\"}} 2", lines);
        Assert.Contains($"{Family}_sum{{{ok}}} 0.00253", lines);
        Assert.Contains($"{Family}_count{{{ok}}} 2", lines);
        var failed = ok.Replace("2xx", "5xx");
        Assert.Contains($"{Family}_bucket{{{failed},le=\"0.03\"}} 0", lines);
        Assert.Contains($"{Family}_bucket{{{failed},le=\"0.04\"}} 1", lines);
        Assert.Contains($"{Family}_count{{{failed}}} 1", lines);
        Assert.DoesNotContain(lines, l => l.Contains("status_class=\"4xx\"")); // no request of that class: no series
        Assert.Equal(2 * (LatencyBuckets.Count + 2) + 2, lines.Length);
        Assert.DoesNotContain(lines, l => l.StartsWith("# UNIT") || l.Contains("_created"));
    }

    [Fact]
    public void Write_OpenMetrics_HasUnitCreatedAndLowerCaseExponents_AndEscapesLabelValues()
    {
        var recorder = new RequestStatsRecorder();
        var cell = recorder.Cell(new RequestKey("default", "we\"b\\x", "b", "east", "west"));
        cell.Record(200, 1);
        var text = new StringBuilder();

        DurationExposition.Write(text, [cell], openMetrics: true);

        var s = text.ToString();
        Assert.Contains($"# UNIT {Family} seconds\n", s);
        Assert.Contains("le=\"2.5e-05\"", s);
        Assert.Contains("service=\"we\\\"b\\\\x\"", s);
        Assert.Contains($"{Family}_created{{", s);
    }

    [Fact]
    public void Write_NoRequestCounted_WritesNothing()
    {
        var recorder = new RequestStatsRecorder();
        recorder.Cell(new RequestKey("default", "web", "web", "east", "east"));
        var text = new StringBuilder();

        DurationExposition.Write(text, recorder.Cells, openMetrics: false);

        Assert.Equal("", text.ToString());
    }

    [Fact]
    public async Task Metrics_WithoutOtlp_TheFamilyComesOnceFromTheCells_BeforeOpenMetricsEof()
    {
        var recorder = new RequestStatsRecorder();
        using var published = MeshMetrics.Publish(recorder);
        var service = "exposition-" + Guid.NewGuid().ToString("N")[..8];
        var cell = recorder.Cell(new RequestKey("default", service, service, "east", "east"));
        using var telemetry = TelemetryHost.Start("fedmesh-test", "east", "test-0", new TelemetrySettings(Enabled: true, ExportOtlp: false));
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        await using var app = builder.Build();
        telemetry.MapMetrics(app, static _ => true);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        for (var i = 0; i < 3; i++) cell.Record(200, 1.5);

        using var client = new HttpClient();
        var text = await client.GetStringAsync($"{address}/metrics");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{address}/metrics");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/openmetrics-text"));
        using var response = await client.SendAsync(request);
        var openMetrics = await response.Content.ReadAsStringAsync();

        foreach (var body in new[] { text, openMetrics })
        {
            Assert.Single(body.Split('\n'), l => l == $"# TYPE {Family} histogram"); // the exporter's own is dropped
            Assert.Contains($"{Family}_count{{otel_scope_name=\"FedMesh\",otel_scope_version=\"1.0\",backend=\"{service}\",", body);
            Assert.Contains("target_info{", body); // the exporter's families are all still there
        }
        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType!.MediaType);
        Assert.EndsWith("\n# EOF\n", openMetrics);
        Assert.Single(openMetrics.Split('\n'), l => l == "# EOF");
    }
}
