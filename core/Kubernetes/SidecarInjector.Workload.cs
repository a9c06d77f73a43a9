using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FedMesh.Core.Common;
using FedMesh.Core.Identity;
using static FedMesh.Core.Kubernetes.InstallDefaults;

namespace FedMesh.Core.Kubernetes;

/// <summary>What the sidecar needs to know about the workload: its service name and the port its app listens on.</summary>
public static partial class SidecarInjector
{
    private static readonly int[] ProxyPorts = [ProxyOutboundPort, ProxyInboundPort, ProxyAdminPort];

    /// <summary>
    /// The annotation <see cref="ServiceAnnotation"/>, else the pod's <c>app</c> label (what a Service usually
    /// selects on), else <c>app.kubernetes.io/name</c>, else the workload's own name.
    /// </summary>
    private static string? ServiceName(JsonObject workload, JsonObject template, string where, List<string> errors)
    {
        var (name, from) = Annotation(workload, template, ServiceAnnotation) is { } annotated ? (annotated, $"annotation {ServiceAnnotation}")
            : Text(template["metadata"]?["labels"]?["app"]) is { } app ? (app, "label app")
            : Text(template["metadata"]?["labels"]?["app.kubernetes.io/name"]) is { } named ? (named, "label app.kubernetes.io/name")
            : (Text(workload["metadata"]?["name"]) ?? "", "metadata.name");
        if (DnsNames.IsLabel(name))
            return name;
        errors.Add($"{where}: the service name '{name}' (from {from}) is not valid: use {DnsNames.LabelRule}, or set the annotation {ServiceAnnotation} on the pod template");
        return null;
    }

    /// <summary>
    /// The annotation <see cref="AppPortAnnotation"/>, else the first <c>containerPort</c> of the pod's first
    /// container (a proxy container from an earlier injection does not count).
    /// </summary>
    private static int? AppPort(JsonObject workload, JsonObject template, JsonArray containers, string where, List<string> errors)
    {
        var taken = $"{ProxyOutboundPort}, {ProxyInboundPort} and {ProxyAdminPort} are the proxy's";
        if (Annotation(workload, template, AppPortAnnotation) is { } annotated)
        {
            if (int.TryParse(annotated, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535 && !ProxyPorts.Contains(port))
                return port;
            errors.Add($"{where}: the annotation {AppPortAnnotation} \"{annotated}\" is not a port the app can listen on: give a number from 1 to 65535 ({taken})");
            return null;
        }
        var app = containers.OfType<JsonObject>().FirstOrDefault(c => NameOf(c) != ProxyContainer);
        if (app is null)
        {
            errors.Add($"{where} has no containers");
            return null;
        }
        var declared = (app["ports"] as JsonArray)?.OfType<JsonObject>().Select(p => Text(p["containerPort"])).FirstOrDefault(p => p is not null);
        if (declared is null)
        {
            errors.Add($"{where}: cannot tell which port the app listens on: its container '{NameOf(app)}' declares no containerPort; "
                + $"declare one, or set the annotation {AppPortAnnotation}: \"PORT\" on the pod template");
            return null;
        }
        if (int.TryParse(declared, NumberStyles.None, CultureInfo.InvariantCulture, out var first) && first is >= 1 and <= 65535 && !ProxyPorts.Contains(first))
            return first;
        errors.Add($"{where}: the containerPort {declared} of container '{NameOf(app)}' cannot be the app's port ({taken}); "
            + $"set the annotation {AppPortAnnotation}: \"PORT\" on the pod template");
        return null;
    }

    /// <summary>The annotation <see cref="AppProtocolAnnotation"/>, else <see cref="AppProtocols.Auto"/>.</summary>
    private static string? AppProtocol(JsonObject workload, JsonObject template, string where, List<string> errors)
    {
        var annotated = Annotation(workload, template, AppProtocolAnnotation);
        if (annotated is null || AppProtocols.All.Contains(annotated))
            return annotated ?? AppProtocols.Auto;
        errors.Add($"{where}: the annotation {AppProtocolAnnotation} \"{annotated}\" is not one of {string.Join(", ", AppProtocols.All)}");
        return null;
    }

    /// <summary>The annotation <see cref="BusyPollAnnotation"/> in microseconds, else 0 (off).</summary>
    private static int? BusyPoll(JsonObject workload, JsonObject template, string where, List<string> errors)
    {
        var annotated = Annotation(workload, template, BusyPollAnnotation);
        if (annotated is null)
            return 0;
        if (Transport.BusyPolling.TryParse(annotated, out var microseconds, out _))
            return microseconds;
        errors.Add($"{where}: the annotation {BusyPollAnnotation} \"{annotated}\" is not a busy-poll window: {Transport.BusyPolling.Rule}");
        return null;
    }

    /// <summary>An annotation of the pod template, else of the workload itself.</summary>
    private static string? Annotation(JsonObject workload, JsonObject template, string key) =>
        Text(template["metadata"]?["annotations"]?[key]) ?? Text(workload["metadata"]?["annotations"]?[key]);

    /// <summary>"Deployment shop/web", as errors name a workload.</summary>
    private static string Describe(JsonObject workload, string kind)
    {
        var name = Text(workload["metadata"]?["name"]) ?? "(unnamed)";
        return Text(workload["metadata"]?["namespace"]) is { } ns ? $"{kind} {ns}/{name}" : $"{kind} {name}";
    }

    /// <summary>A scalar as text (YAML may give a number where Kubernetes wants a string, or the other way round); null otherwise.</summary>
    private static string? Text(JsonNode? node) => node is JsonValue v ? v.GetValueKind() switch
    {
        JsonValueKind.String => v.GetValue<string>(),
        JsonValueKind.Number => v.ToJsonString(),
        _ => null,
    } : null;
}
