using System.Text.Json.Nodes;
using static FedMesh.Core.Kubernetes.InstallDefaults;
using static FedMesh.Core.Kubernetes.ManifestObjects;

namespace FedMesh.Core.Kubernetes;

/// <summary>
/// <c>fedmesh inject</c>: adds the proxy sidecar and an init container that redirects the pod's outbound
/// TCP to the proxy (iptables, NET_ADMIN) to the pod template of every Deployment, StatefulSet and
/// DaemonSet, with a projected service-account token (audience <c>fedmesh</c>) the proxy presents for its
/// certificate; other documents pass through unchanged. The pod template is marked with
/// <see cref="InjectedAnnotation"/>, and containers already there are not added again, so injecting
/// twice gives what injecting once gives.
/// </summary>
public static class SidecarInjector
{
    public const string InjectedAnnotation = "fedmesh.io/injected";
    public const string ProxyContainer = "fedmesh-proxy";
    public const string InitContainer = "fedmesh-init";

    private static readonly string[] Workloads = ["Deployment", "StatefulSet", "DaemonSet"];

    /// <summary>Injects every workload of the multi-document <paramref name="yaml"/> and returns the YAML out.</summary>
    public static string Inject(string yaml, string cluster, string imageRepository = ImageRepository, string imageTag = ImageTag)
    {
        var documents = ManifestYaml.Read(yaml);
        foreach (var document in documents)
            if (document is JsonObject o && o["kind"]?.GetValue<string>() is { } kind && Workloads.Contains(kind))
                InjectWorkload(o, cluster, imageRepository, imageTag);
        return ManifestYaml.Write(documents);
    }

    private static void InjectWorkload(JsonObject workload, string cluster, string repository, string tag)
    {
        var name = workload["metadata"]?["name"]?.GetValue<string>() ?? "(unnamed)";
        var template = workload["spec"]?["template"] as JsonObject
            ?? throw new ArgumentException($"{workload["kind"]} {name} has no spec.template; only workloads with a pod template can be injected");
        var meta = template["metadata"] as JsonObject ?? (JsonObject)(template["metadata"] = new JsonObject());
        var annotations = meta["annotations"] as JsonObject ?? (JsonObject)(meta["annotations"] = new JsonObject());
        var pod = template["spec"] as JsonObject ?? (JsonObject)(template["spec"] = new JsonObject());
        var containers = pod["containers"] as JsonArray ?? (JsonArray)(pod["containers"] = new JsonArray());
        var inits = pod["initContainers"] as JsonArray ?? (JsonArray)(pod["initContainers"] = new JsonArray());
        if (!Has(inits, InitContainer)) inits.Insert(0, Init($"{repository}/proxy:{tag}"));
        if (!Has(containers, ProxyContainer)) containers.Add(Proxy($"{repository}/proxy:{tag}", cluster));
        var volumes = pod["volumes"] as JsonArray ?? (JsonArray)(pod["volumes"] = new JsonArray());
        if (!Has(volumes, InstallDefaults.TokenVolume)) volumes.Add(ManifestObjects.TokenVolume());
        annotations[InjectedAnnotation] = "true";
    }

    private static bool Has(JsonArray named, string name) =>
        named.OfType<JsonObject>().Any(c => c["name"]?.GetValue<string>() == name);

    private static JsonObject Proxy(string image, string cluster) => new()
    {
        ["name"] = ProxyContainer,
        ["image"] = image,
        // The identity asked for must be the pod's own namespace and ServiceAccount: the controller's TokenReview checks it.
        ["args"] = Strings("--Cluster", cluster, "--Controller", ControllerUrl, "--TokenFile", TokenFile,
            "--Instance", "$(FEDMESH_POD_NAME)", "--Namespace", "$(FEDMESH_POD_NAMESPACE)", "--ServiceAccount", "$(FEDMESH_SERVICE_ACCOUNT)"),
        ["env"] = new JsonArray(
            FieldEnv("FEDMESH_POD_NAME", "metadata.name"),
            FieldEnv("FEDMESH_POD_NAMESPACE", "metadata.namespace"),
            FieldEnv("FEDMESH_SERVICE_ACCOUNT", "spec.serviceAccountName")),
        ["ports"] = new JsonArray(Port("fedmesh-out", ProxyOutboundPort), Port("fedmesh-in", ProxyInboundPort), Port("fedmesh-admin", ProxyAdminPort)),
        ["readinessProbe"] = HttpProbe("/ready", ProxyAdminPort),
        ["volumeMounts"] = new JsonArray(ManifestObjects.TokenMount()),
        ["securityContext"] = new JsonObject
        {
            ["runAsUser"] = ProxyUid,
            ["runAsNonRoot"] = true,
            ["allowPrivilegeEscalation"] = false,
            ["readOnlyRootFilesystem"] = true,
            ["capabilities"] = new JsonObject { ["drop"] = Strings("ALL") },
        },
    };

    /// <summary>
    /// Redirects outbound TCP to the proxy's outbound port, except the proxy's own traffic (by uid) and
    /// loopback, so the app needs no configuration. Only NET_ADMIN and NET_RAW, only in this container.
    /// </summary>
    private static JsonObject Init(string image) => new()
    {
        ["name"] = InitContainer,
        ["image"] = image,
        ["command"] = Strings("/bin/sh", "-c"),
        ["args"] = Strings(string.Join(" && ",
            "iptables -t nat -N FEDMESH_OUTPUT",
            "iptables -t nat -A OUTPUT -p tcp -j FEDMESH_OUTPUT",
            $"iptables -t nat -A FEDMESH_OUTPUT -m owner --uid-owner {ProxyUid} -j RETURN",
            "iptables -t nat -A FEDMESH_OUTPUT -d 127.0.0.1/32 -j RETURN",
            $"iptables -t nat -A FEDMESH_OUTPUT -p tcp -j REDIRECT --to-ports {ProxyOutboundPort}")),
        ["securityContext"] = new JsonObject
        {
            ["runAsUser"] = 0,
            ["runAsNonRoot"] = false,
            ["capabilities"] = new JsonObject { ["add"] = Strings("NET_ADMIN", "NET_RAW"), ["drop"] = Strings("ALL") },
        },
    };

    private static JsonObject FieldEnv(string name, string fieldPath) =>
        new() { ["name"] = name, ["valueFrom"] = new JsonObject { ["fieldRef"] = new JsonObject { ["fieldPath"] = fieldPath } } };
}
