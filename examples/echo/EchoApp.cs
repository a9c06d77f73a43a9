using FedMesh.Core.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.Echo;

/// <summary>
/// The example workload: answers every request with who answered (cluster, instance) and what it
/// saw. Its error rate and added latency can be changed at runtime through <c>/_echo/config</c>,
/// and <c>/_echo/stats</c> counts what reached it, so tests can tell how often a request arrived.
/// </summary>
public static class EchoApp
{
    /// <summary>Runs until <paramref name="cancellationToken"/> fires. Args: --Listen 127.0.0.1:PORT --Cluster C --Instance I --Service S.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var options = new ConfigurationBuilder().AddCommandLine(args).Build().Get<EchoOptions>() ?? new EchoOptions();
        var problems = options.Validate();
        if (problems.Count > 0)
        {
            Console.Error.WriteLine("echo: invalid options: " + string.Join("; ", problems));
            return 2;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        // HTTP/1.1 and HTTP/2 with prior knowledge (h2c, as gRPC clients speak it) on the one port, as a
        // gRPC-capable app would: the mesh hands the app each request in its caller's protocol.
        builder.Services.AddCleartextProtocolDetection();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.ListenHttp1AndH2c(System.Net.IPEndPoint.Parse(options.Listen));
        });
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton<EchoState>();

        var app = builder.Build();
        app.MapGet("/_echo/config", (EchoState s) => Results.Json(s.Config, EchoJson.Default.EchoFaults));
        app.MapMethods("/_echo/config", ["PUT", "POST"], (HttpContext c, EchoState s) => s.Configure(c.Request.Query));
        app.MapGet("/_echo/stats", (EchoState s) => Results.Json(s.Stats(), EchoJson.Default.EchoStats));
        app.MapPost("/_echo/stats/reset", (EchoState s) => { s.ResetStats(); return Results.NoContent(); });
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        // A fallback endpoint, not app.Run: a terminal middleware would run before the endpoints above and shadow them.
        app.MapFallback(context => context.RequestServices.GetRequiredService<EchoState>().AnswerAsync(context));

        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"echo {options.Instance} of cluster {options.Cluster} listening on {options.Listen}");
        try { await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { }
        await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        return 0;
    }
}

public sealed class EchoOptions
{
    public string Listen { get; set; } = "";
    public string Cluster { get; set; } = "";
    public string Instance { get; set; } = "";
    public string Service { get; set; } = "echo";

    public List<string> Validate()
    {
        var problems = new List<string>();
        if (!System.Net.IPEndPoint.TryParse(Listen, out _)) problems.Add($"--Listen must be host:port (got '{Listen}')");
        if (string.IsNullOrWhiteSpace(Cluster)) problems.Add("--Cluster is required");
        if (string.IsNullOrWhiteSpace(Instance)) problems.Add("--Instance is required");
        return problems;
    }
}
