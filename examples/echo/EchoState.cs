using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Echo;

/// <summary>What the echo answers, the faults it injects, and what it has seen.</summary>
internal sealed class EchoState(EchoOptions options)
{
    private EchoFaults _config = new(0, 0);
    private long _requests, _gets, _posts, _others, _failed;

    public EchoFaults Config => Volatile.Read(ref _config);

    public IResult Configure(IQueryCollection query)
    {
        var current = Config;
        var errorRate = current.ErrorRate;
        var latencyMs = current.LatencyMs;
        if (query.TryGetValue("errorRate", out var e) && (!double.TryParse(e, System.Globalization.CultureInfo.InvariantCulture, out errorRate) || errorRate is < 0 or > 1))
            return Results.BadRequest($"errorRate must be a number between 0 and 1 (got '{e}')\n");
        if (query.TryGetValue("latencyMs", out var l) && (!int.TryParse(l, out latencyMs) || latencyMs is < 0 or > 600_000))
            return Results.BadRequest($"latencyMs must be an integer between 0 and 600000 (got '{l}')\n");
        var next = new EchoFaults(errorRate, latencyMs);
        Volatile.Write(ref _config, next);
        return Results.Json(next, EchoJson.Default.EchoFaults);
    }

    public EchoStats Stats() => new(options.Cluster, options.Instance,
        Interlocked.Read(ref _requests), Interlocked.Read(ref _gets), Interlocked.Read(ref _posts), Interlocked.Read(ref _others), Interlocked.Read(ref _failed));

    public void ResetStats()
    {
        Interlocked.Exchange(ref _requests, 0);
        Interlocked.Exchange(ref _gets, 0);
        Interlocked.Exchange(ref _posts, 0);
        Interlocked.Exchange(ref _others, 0);
        Interlocked.Exchange(ref _failed, 0);
    }

    public async Task AnswerAsync(HttpContext context)
    {
        var request = context.Request;
        Interlocked.Increment(ref _requests);
        if (HttpMethods.IsGet(request.Method)) Interlocked.Increment(ref _gets);
        else if (HttpMethods.IsPost(request.Method)) Interlocked.Increment(ref _posts);
        else Interlocked.Increment(ref _others);

        // Drain the body so its size can be reported and the connection stays reusable.
        long bodyBytes = 0;
        var buffer = new byte[8192];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, context.RequestAborted)) > 0) bodyBytes += n;

        var faults = Config;
        if (faults.LatencyMs > 0)
            await Task.Delay(faults.LatencyMs, context.RequestAborted);

        var failed = faults.ErrorRate > 0 && Random.Shared.NextDouble() < faults.ErrorRate;
        if (failed) Interlocked.Increment(ref _failed);
        context.Response.StatusCode = failed ? StatusCodes.Status500InternalServerError : StatusCodes.Status200OK;
        context.Response.Headers["x-echo-protocol"] = request.Protocol;
        var answer = new EchoAnswer(options.Cluster, options.Instance, options.Service, request.Method, request.Path.Value ?? "/",
            request.Headers["x-fedmesh-caller"].ToString(), request.Headers["traceparent"].ToString(), bodyBytes, failed ? "injected failure" : null);
        await context.Response.WriteAsJsonAsync(answer, EchoJson.Default.EchoAnswer, contentType: null, context.RequestAborted);
    }
}

public sealed record EchoFaults(double ErrorRate, int LatencyMs);

public sealed record EchoStats(string Cluster, string Instance, long Requests, long Gets, long Posts, long Others, long Failed);

public sealed record EchoAnswer(string Cluster, string Instance, string Service, string Method, string Path, string Caller, string Traceparent, long BodyBytes, string? Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(EchoFaults))]
[JsonSerializable(typeof(EchoStats))]
[JsonSerializable(typeof(EchoAnswer))]
internal sealed partial class EchoJson : JsonSerializerContext;
