using System.Text.Json;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Proxy.Admin;

/// <summary>
/// <c>GET /routes</c> on the admin listener, read-only: the applied snapshot's version, when it was
/// applied and, per service with a route, its backends and weights. Lets operators and benchmarks see
/// what this proxy routes by, and since when.
/// </summary>
internal static class RoutesEndpoint
{
    public static async Task WriteAsync(HttpResponse response, AppliedSnapshot? applied)
    {
        var snapshot = applied?.Snapshot;
        response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(response.Body, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("version", snapshot?.Version);
        if (applied is null)
            json.WriteNull("appliedAt");
        else
            json.WriteString("appliedAt", applied.AppliedAt);
        json.WriteStartArray("routes");
        foreach (var service in snapshot?.Services ?? [])
        {
            if (service.Route is not { Backends.Count: > 0 } route) continue;
            json.WriteStartObject();
            json.WriteString("service", service.Name + "." + (string.IsNullOrEmpty(service.Namespace) ? "default" : service.Namespace));
            json.WriteStartArray("backends");
            foreach (var backend in route.Backends)
            {
                json.WriteStartObject();
                json.WriteString("service", backend.Service);
                json.WriteString("cluster", backend.Cluster);
                json.WriteNumber("weight", backend.Weight);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(response.HttpContext.RequestAborted).ConfigureAwait(false);
    }
}
