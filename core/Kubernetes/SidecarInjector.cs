using System.Text.Json.Nodes;

namespace FedMesh.Core.Kubernetes;

/// <summary>
/// <c>fedmesh inject</c>: adds the proxy sidecar and an init container that redirects the pod's outbound
/// TCP to the proxy (iptables, NET_ADMIN) to the pod template of every Deployment, StatefulSet and
/// DaemonSet, with a projected service-account token (audience <c>fedmesh</c>) the proxy presents for its
/// certificate; other documents pass through unchanged. The pod template is labelled
/// <see cref="InjectedLabel"/>, and what an earlier injection added is replaced in place, so injecting
/// twice gives what injecting once gives. A workload whose service name or app port cannot be told is refused
/// (every such workload named in one error) and nothing is returned.
/// </summary>
public static partial class SidecarInjector
{
    /// <summary>
    /// Label <c>"true"</c> on every injected pod template, so on the pods: the controller lists and watches only pods
    /// with it (a label selector, unlike an annotation) to find the endpoints of injected workloads.
    /// </summary>
    public const string InjectedLabel = "fedmesh.io/injected";

    /// <summary>
    /// The instance id of an injected pod, what its sidecar gets as <c>--Instance</c> and the controller gives its
    /// endpoint: <c>NAME.NAMESPACE</c>, unique in the cluster as a discovery node id must be.
    /// </summary>
    public static string InstanceOf(string podName, string podNamespace) => $"{podName}.{podNamespace}";

    /// <summary>Overrides the app port (default: the first containerPort of the pod's first container).</summary>
    public const string AppPortAnnotation = "fedmesh.io/app-port";

    /// <summary>
    /// How the sidecar speaks to the app: <c>auto</c> (default: the caller's protocol), <c>http1</c> (an app that
    /// cannot speak h2c), <c>http2</c> (a gRPC-only app). Becomes the proxy's <c>--AppProtocol</c>.
    /// </summary>
    public const string AppProtocolAnnotation = "fedmesh.io/app-protocol";

    /// <summary>
    /// The sidecar's busy-poll window in microseconds (default: none, off): becomes its
    /// <see cref="Transport.BusyPolling.Variable"/>. For latency-critical pods on virtual machines, at some CPU.
    /// </summary>
    public const string BusyPollAnnotation = "fedmesh.io/busy-poll-us";

    /// <summary>Overrides the service name (default: the pod's <c>app</c> label, then <c>app.kubernetes.io/name</c>, then the workload's name).</summary>
    public const string ServiceAnnotation = "fedmesh.io/service";

    public const string ProxyContainer = "fedmesh-proxy";
    public const string InitContainer = "fedmesh-init";

    private static readonly string[] Workloads = ["Deployment", "StatefulSet", "DaemonSet"];

    /// <summary>Injects every workload of the multi-document <paramref name="yaml"/> and returns the YAML out.</summary>
    /// <exception cref="ArgumentException">Some workload cannot be injected; the message names each one and what to set.</exception>
    public static string Inject(string yaml, InjectOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var documents = ManifestYaml.Read(yaml);
        var errors = new List<string>();
        foreach (var document in documents)
            if (document is JsonObject o && o["kind"]?.GetValue<string>() is { } kind && Workloads.Contains(kind))
                InjectWorkload(o, kind, options, errors);
        if (errors.Count > 0)
            throw new ArgumentException(string.Join("; ", errors));
        return ManifestYaml.Write(documents);
    }

    private static void InjectWorkload(JsonObject workload, string kind, InjectOptions options, List<string> errors)
    {
        var where = Describe(workload, kind);
        if (workload["spec"]?["template"] is not JsonObject template)
        {
            errors.Add($"{where} has no spec.template; only workloads with a pod template can be injected");
            return;
        }
        var pod = Child(template, "spec");
        var containers = Array(pod, "containers");
        var service = ServiceName(workload, template, where, errors);
        var appPort = AppPort(workload, template, containers, where, errors);
        var appProtocol = AppProtocol(workload, template, where, errors);
        var busyPoll = BusyPoll(workload, template, where, errors);
        if (service is null || appPort is null || appProtocol is null || busyPoll is null)
            return;

        var image = $"{options.ImageRepository}/proxy:{options.ImageTag}";
        Upsert(Array(pod, "initContainers"), Init(image), first: true);
        Upsert(containers, Proxy(image, options, service, appPort.Value, appProtocol, busyPoll.Value), first: false);
        Upsert(Array(pod, "volumes"), ManifestObjects.TokenVolume(), first: false);
        Child(Child(template, "metadata"), "labels")[InjectedLabel] = "true";
    }

    /// <summary>Replaces the element of the same name where it is (an earlier injection), or adds it.</summary>
    private static void Upsert(JsonArray named, JsonObject item, bool first)
    {
        var name = NameOf(item);
        for (var i = 0; i < named.Count; i++)
        {
            if (named[i] is JsonObject o && NameOf(o) == name)
            {
                named[i] = item;
                return;
            }
        }
        if (first) named.Insert(0, item);
        else named.Add(item);
    }

    private static string? NameOf(JsonObject o) => o["name"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    private static JsonObject Child(JsonObject parent, string key) =>
        parent[key] as JsonObject ?? (JsonObject)(parent[key] = new JsonObject());

    private static JsonArray Array(JsonObject parent, string key) =>
        parent[key] as JsonArray ?? (JsonArray)(parent[key] = new JsonArray());
}
