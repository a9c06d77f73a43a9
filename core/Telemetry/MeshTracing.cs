using System.Diagnostics;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// Spans of the data plane. A span continues the caller's W3C trace (<c>traceparent</c>/<c>tracestate</c>)
/// and is current while the request is forwarded, so the outgoing request carries it on; with tracing off
/// (no listener) nothing is created and the caller's headers pass through untouched.
/// </summary>
public static class MeshTracing
{
    public const string SourceName = "FedMesh";

    public const string ProxyOutboundSpan = "proxy outbound";
    public const string ProxyInboundSpan = "proxy inbound";
    public const string GatewaySpan = "gateway";

    public static readonly ActivitySource Source = new(SourceName, "1.0");

    /// <summary>Starts a span for the request in <paramref name="context"/>, or returns null when tracing is off or not sampled.</summary>
    public static Activity? StartSpan(HttpContext context, string name, ActivityKind kind)
    {
        if (!Source.HasListeners()) return null;
        var headers = context.Request.Headers;
        var traceParent = headers[HeaderNames.TraceParent];
        // The caller's span is the parent (not ASP.NET Core's unexported request activity), so the trace has no gaps.
        if (traceParent.Count == 1 && ActivityContext.TryParse(traceParent[0], headers[HeaderNames.TraceState].ToString(), isRemote: true, out var parent))
            return Source.StartActivity(name, kind, parent);
        return Source.StartActivity(name, kind, default(ActivityContext));
    }

    /// <summary>
    /// Starts a relayed request's span (the relays read the head as bytes): a child of the caller's span when
    /// <paramref name="traceParent"/> (empty: none, or not exactly one) parses, with <paramref name="traceState"/>.
    /// </summary>
    public static Activity? StartSpan(string name, ActivityKind kind, ReadOnlySpan<byte> traceParent, ReadOnlySpan<byte> traceState)
    {
        var parent = default(ActivityContext);
        if (!traceParent.IsEmpty && !ActivityContext.TryParse(Encoding.ASCII.GetString(traceParent),
                traceState.IsEmpty ? null : Encoding.ASCII.GetString(traceState), isRemote: true, out parent))
            parent = default;
        return Source.StartActivity(name, kind, parent);
    }

    /// <summary>Whether a field (by its name as bytes) is one the propagator writes: the relays drop it when they start a span of their own.</summary>
    public static bool IsPropagatorField(DistributedContextPropagator propagator, ReadOnlySpan<byte> name)
    {
        foreach (var field in propagator.Fields)
        {
            if (name.Length == field.Length && Ascii.EqualsIgnoreCase(name, field))
                return true;
        }
        return false;
    }

    /// <summary>Adds the response status; only when the span is recorded.</summary>
    public static void Complete(Activity? span, int statusCode)
    {
        if (span is null || !span.IsAllDataRequested) return;
        span.SetTag("http.response.status_code", statusCode);
        if (statusCode is 0 or >= 500) span.SetStatus(ActivityStatusCode.Error);
    }

    /// <summary>Adds what a reader of the trace needs; only when the span is recorded.</summary>
    public static void Complete(Activity? span, in RequestKey key, int statusCode)
    {
        if (span is null || !span.IsAllDataRequested) return;
        span.SetTag(MeshMetrics.SourceClusterTag, key.SourceCluster);
        span.SetTag(MeshMetrics.DestinationClusterTag, key.DestinationCluster);
        span.SetTag(MeshMetrics.NamespaceTag, key.Namespace);
        span.SetTag(MeshMetrics.ServiceTag, key.Service);
        span.SetTag(MeshMetrics.BackendTag, key.Backend);
        span.SetTag("http.response.status_code", statusCode);
        if (statusCode is 0 or >= 500) span.SetStatus(ActivityStatusCode.Error);
    }
}
