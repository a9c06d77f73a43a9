using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FedMesh.E2E;

/// <summary>
/// A minimal OTLP/HTTP receiver on loopback: keeps every protobuf export request body so tests can look for a
/// trace id (16 raw bytes) next to the exporting process's service.name.
/// </summary>
public sealed class OtlpSink : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<byte[]> _traces = new();

    public OtlpSink()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        _app = builder.Build();
        _app.MapPost("/v1/traces", async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            _traces.Enqueue(body.ToArray());
        });
        _app.MapPost("/v1/{signal}", (string signal) => Results.Ok());
    }

    public string Endpoint => _app.Urls.First();

    public Task StartAsync() => _app.StartAsync();

    /// <summary>Export requests holding <paramref name="traceId"/> (32 hex digits), by the service.name they carry.</summary>
    public IReadOnlyList<string> ServicesWithTrace(string traceId)
    {
        var id = Convert.FromHexString(traceId);
        var services = new List<string>();
        foreach (var body in _traces)
        {
            if (body.AsSpan().IndexOf(id) < 0) continue;
            foreach (var name in new[] { "fedmesh-proxy", "fedmesh-gateway" })
                if (body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(name)) >= 0) services.Add(name);
        }
        return services;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
