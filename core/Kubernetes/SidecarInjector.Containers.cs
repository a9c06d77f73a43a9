using System.Globalization;
using System.Text.Json.Nodes;
using static FedMesh.Core.Kubernetes.InstallDefaults;
using static FedMesh.Core.Kubernetes.ManifestObjects;

namespace FedMesh.Core.Kubernetes;

/// <summary>The two containers injection adds: the proxy sidecar and the init container that captures outbound traffic.</summary>
public static partial class SidecarInjector
{
    private const string PodNameVariable = "FEDMESH_POD_NAME";
    private const string PodNamespaceVariable = "FEDMESH_POD_NAMESPACE";
    private const string ServiceAccountVariable = "FEDMESH_SERVICE_ACCOUNT";

    /// <summary>
    /// The sidecar: the proxy image's entrypoint (the native <c>fedmesh-proxy</c>) with every option the proxy requires,
    /// as args and no command, so the entrypoint stays. The pod's name, namespace and ServiceAccount come from the
    /// downward API (the kubelet expands <c>$(VAR)</c> in args): the identity asked for must be the pod's own
    /// namespace and ServiceAccount, as the controller's TokenReview checks; the instance is name.namespace,
    /// unique in the cluster as the discovery node id must be.
    /// </summary>
    private static JsonObject Proxy(string image, InjectOptions options, string service, int appPort, string appProtocol, int busyPoll) => new()
    {
        ["name"] = ProxyContainer,
        ["image"] = image,
        ["args"] = Strings(
            "--Cluster", options.Cluster,
            "--TrustDomain", options.TrustDomain,
            "--Namespace", $"$({PodNamespaceVariable})",
            "--Service", service,
            "--Instance", InstanceOf($"$({PodNameVariable})", $"$({PodNamespaceVariable})"),
            "--ServiceAccount", $"$({ServiceAccountVariable})",
            "--Outbound", $"127.0.0.1:{ProxyOutboundPort}",
            "--Inbound", $"0.0.0.0:{ProxyInboundPort}",
            "--AdminListen", $"0.0.0.0:{ProxyAdminPort}",
            "--App", $"http://127.0.0.1:{appPort.ToString(CultureInfo.InvariantCulture)}",
            "--AppProtocol", appProtocol,
            "--Controller", ControllerUrl,
            "--TokenFile", TokenFile),
        ["env"] = ProxyEnv(busyPoll),
        ["ports"] = new JsonArray(Port("fedmesh-in", ProxyInboundPort), Port("fedmesh-admin", ProxyAdminPort)),
        // /live answers as soon as the admin listener is up (the proxy binds it first); /ready once it has a
        // certificate, a discovery snapshot, its listeners and an answering app.
        ["livenessProbe"] = HttpProbe("/live", ProxyAdminPort),
        ["readinessProbe"] = HttpProbe("/ready", ProxyAdminPort),
        ["volumeMounts"] = new JsonArray(TokenMount()),
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
    /// Redirects the pod's outbound TCP to the proxy's outbound listener, so the app needs no configuration. Not
    /// redirected: the proxy's own traffic (by uid, or it would loop), loopback, and admin ports (probes and
    /// metrics scrapes of other pods go as they are). Inbound traffic is not touched: peers dial the proxy's
    /// inbound port. Safe to run again in the same pod (the chain is flushed, the jump added once). Only
    /// NET_ADMIN and NET_RAW, only in this container. The proxy image carries iptables and a shell for it.
    /// </summary>
    private static JsonObject Init(string image) => new()
    {
        ["name"] = InitContainer,
        ["image"] = image,
        ["command"] = Strings("/bin/sh", "-c"),
        ["args"] = Strings(string.Join('\n',
            "set -e",
            "iptables -t nat -N FEDMESH_OUTPUT 2>/dev/null || iptables -t nat -F FEDMESH_OUTPUT",
            "iptables -t nat -C OUTPUT -p tcp -j FEDMESH_OUTPUT 2>/dev/null || iptables -t nat -A OUTPUT -p tcp -j FEDMESH_OUTPUT",
            $"iptables -t nat -A FEDMESH_OUTPUT -m owner --uid-owner {ProxyUid} -j RETURN",
            "iptables -t nat -A FEDMESH_OUTPUT -d 127.0.0.0/8 -j RETURN",
            $"iptables -t nat -A FEDMESH_OUTPUT -p tcp --dport {ProxyAdminPort} -j RETURN",
            $"iptables -t nat -A FEDMESH_OUTPUT -p tcp -j REDIRECT --to-ports {ProxyOutboundPort}")),
        ["securityContext"] = new JsonObject
        {
            ["runAsUser"] = 0,
            ["runAsNonRoot"] = false,
            ["capabilities"] = new JsonObject { ["add"] = Strings("NET_ADMIN", "NET_RAW"), ["drop"] = Strings("ALL") },
        },
    };

    /// <summary>The pod's name, namespace and ServiceAccount (downward API), and the busy-poll window when one is asked for.</summary>
    private static JsonArray ProxyEnv(int busyPoll)
    {
        var env = new JsonArray(
            FieldEnv(PodNameVariable, "metadata.name"),
            FieldEnv(PodNamespaceVariable, "metadata.namespace"),
            FieldEnv(ServiceAccountVariable, "spec.serviceAccountName"));
        if (busyPoll > 0)
            env.Add(Env(Transport.BusyPolling.Variable, busyPoll.ToString(CultureInfo.InvariantCulture)));
        return env;
    }

    private static JsonObject FieldEnv(string name, string fieldPath) =>
        new() { ["name"] = name, ["valueFrom"] = new JsonObject { ["fieldRef"] = new JsonObject { ["fieldPath"] = fieldPath } } };
}
