using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// One process's OpenTelemetry pipeline: a meter provider with the FedMesh meters, read by the
/// Prometheus exporter behind <see cref="ServeMetricsAsync"/> (the admin port's <c>/metrics</c>) and
/// by OTLP when configured, and a tracer provider for the FedMesh spans (exported over OTLP).
/// </summary>
public sealed class TelemetryHost : IDisposable
{
    private static readonly byte[] DisabledBody = Encoding.UTF8.GetBytes(
        $"metrics are off in this process ({TelemetrySettings.SwitchVariable}=off or OTEL_SDK_DISABLED=true)\n");

    private static readonly byte[] OpenMetricsEnd = "# EOF\n"u8.ToArray();

    private readonly MeterProvider? _meters;
    private readonly TracerProvider? _tracer;
    private readonly bool _durationFromCells;

    private TelemetryHost(MeterProvider? meters, TracerProvider? tracer, bool durationFromCells)
    {
        _meters = meters;
        _tracer = tracer;
        _durationFromCells = durationFromCells;
    }

    /// <summary>True when this process publishes metrics and traces.</summary>
    public bool Enabled => _meters is not null;

    /// <summary>The .NET runtime's built-in meter (process and GC figures).</summary>
    public const string RuntimeMeterName = "System.Runtime";

    /// <summary>Admin path of the Prometheus text endpoint.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// Starts the pipeline for one component. <paramref name="component"/> becomes <c>service.name</c>
    /// (fedmesh-proxy, fedmesh-gateway, fedmesh-controller); <paramref name="extraMeters"/> adds the
    /// component's own meters; <paramref name="traces"/> is false where no spans are made.
    /// </summary>
    public static TelemetryHost Start(string component, string cluster, string instance, TelemetrySettings settings,
        bool traces = true, params string[] extraMeters)
    {
        if (!settings.Enabled) return new TelemetryHost(null, null, false);
        var resource = ResourceBuilder.CreateEmpty()
            .AddService(component, serviceInstanceId: instance)
            .AddAttributes([new("fedmesh.cluster", cluster)]);
        var meters = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(MeshMetrics.MeterName)
            // The runtime's own meter: GC (collections, heap, bytes allocated), thread pool, CPU time and working set.
            // Its instruments are read at scrape time only, so the request path pays nothing for them.
            .AddMeter(RuntimeMeterName)
            // Three of its gauges are counts named "*.count"; in Prometheus a "_count" suffix belongs to histograms and
            // summaries (promtool refuses it), so they are published under plural names.
            .AddView("dotnet.assembly.count", "dotnet.assemblies")
            .AddView("dotnet.process.cpu.count", "dotnet.process.cpus")
            .AddView("dotnet.timer.count", "dotnet.timers")
            .AddMeter(extraMeters)
            .AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
        // Each request's duration is counted in its cell anyway (RequestStatsCell), and /metrics renders the histogram
        // from the cells when scraped (MapMetrics). Recording it through OpenTelemetry as well costs every request the
        // lookup of its six tags (about 3 % of the proxy's CPU at 1,000 rps, bench/README.md): done only for OTLP.
        var durationFromCells = !settings.ExportOtlp;
        if (durationFromCells) meters.AddView(MeshMetrics.RequestDuration.Name, MetricStreamConfiguration.Drop);
        if (settings.ExportOtlp) meters.AddOtlpExporter();
        // Spans only go somewhere over OTLP: without it none are made, and the caller's trace headers pass through.
        TracerProvider? tracer = traces && settings.ExportOtlp
            ? Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(MeshTracing.SourceName)
                .SetSampler(new ParentBasedSampler(new AlwaysOnSampler()))
                .AddOtlpExporter()
                .Build()
            : null;
        return new TelemetryHost(meters.Build(), tracer, durationFromCells);
    }

    /// <summary>
    /// Serves <c>GET /metrics</c> (Prometheus text format) in <paramref name="app"/>'s pipeline for requests
    /// <paramref name="onAdmin"/> accepts (the admin listener); with telemetry off it answers 404 saying why.
    /// </summary>
    public void MapMetrics(IApplicationBuilder app, Func<HttpContext, bool> onAdmin)
    {
        bool IsScrape(HttpContext context) => onAdmin(context) && context.Request.Path.Equals(MetricsPath, StringComparison.Ordinal);
        if (_meters is not null)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(_meters, IsScrape, null,
                _durationFromCells ? branch => branch.Use(WithDurationsAsync) : null, null);
            return;
        }
        app.Use((context, next) =>
        {
            if (!IsScrape(context)) return next(context);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.Body.WriteAsync(DisabledBody).AsTask();
        });
    }

    /// <summary>
    /// Runs the exporter into a buffer and adds the duration histogram rendered from the cells: at the end of the
    /// Prometheus text, before OpenMetrics' closing <c># EOF</c>.
    /// </summary>
    private static async Task WithDurationsAsync(HttpContext context, RequestDelegate exporter)
    {
        var body = context.Response.Body;
        using var exported = new MemoryStream();
        context.Response.Body = exported;
        try
        {
            await exporter(context).ConfigureAwait(false);
        }
        finally
        {
            context.Response.Body = body;
        }
        var text = exported.GetBuffer().AsMemory(0, (int)exported.Length);
        if (context.Response.StatusCode == StatusCodes.Status200OK)
        {
            var openMetrics = context.Response.ContentType?.StartsWith("application/openmetrics-text", StringComparison.Ordinal) == true;
            context.Response.ContentType ??= "text/plain; charset=utf-8; version=0.0.4";
            var durations = new StringBuilder();
            DurationExposition.Write(durations, MeshMetrics.PublishedCells(), openMetrics);
            var end = openMetrics && text.Span.EndsWith(OpenMetricsEnd) ? text.Length - OpenMetricsEnd.Length : text.Length;
            await body.WriteAsync(text[..end], context.RequestAborted).ConfigureAwait(false);
            await body.WriteAsync(Encoding.UTF8.GetBytes(durations.ToString()), context.RequestAborted).ConfigureAwait(false);
            text = text[end..];
        }
        await body.WriteAsync(text, context.RequestAborted).ConfigureAwait(false);
    }

    public void Dispose()
    {
        _tracer?.Dispose();
        _meters?.Dispose();
    }
}
