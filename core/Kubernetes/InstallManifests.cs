using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using FedMesh.Core.Resources;
using static FedMesh.Core.Kubernetes.InstallDefaults;
using static FedMesh.Core.Kubernetes.ManifestObjects;

namespace FedMesh.Core.Kubernetes;

/// <summary>
/// Everything <c>fedmesh install</c> puts in a cluster, in apply order: the CRDs, the fedmesh-system
/// namespace, least-privilege RBAC, the issuer Secret, the controller and gateway Deployments and their
/// Services. The controller may write only what it mirrors (Services, EndpointSlices) and our custom
/// resources, list and watch Pods (to find injected pods behind Services' EndpointSlices; it never gets one by name),
/// read Secrets only in fedmesh-system, and create TokenReviews (to check the tokens callers of its Identity
/// service present); the gateway gets no API token at all, only a projected token of audience <c>fedmesh</c>.
/// </summary>
public static class InstallManifests
{
    private const string Ns = WellKnown.SystemNamespace;
    private static readonly string[] ReadWrite = ["get", "list", "watch", "create", "update", "patch", "delete"];

    public static IReadOnlyList<JsonObject> Render(InstallOptions options)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException($"cannot render the install manifests of cluster '{options.Cluster}': {string.Join("; ", errors)}");
        var list = new List<JsonObject>(CrdCatalog.All())
        {
            Obj("v1", "Namespace", Meta(Ns, null)),
            Obj("v1", "ServiceAccount", Meta(ControllerName, Ns, "controller")),
            Obj("v1", "ServiceAccount", Meta(GatewayServiceAccount, Ns, "gateway"), ("automountServiceAccountToken", false)),
            Obj("rbac.authorization.k8s.io/v1", "ClusterRole", Meta(ControllerName, null, "controller"), ("rules", new JsonArray(
                Rule([""], ["services"], ReadWrite),
                Rule(["discovery.k8s.io"], ["endpointslices"], ReadWrite),
                Rule([""], ["pods"], ["list", "watch"]),
                Rule([CrdCatalog.Group], ["links", "trafficsplits", "failoverpolicies"], ["get", "list", "watch", "update", "patch"]),
                Rule(["authentication.k8s.io"], ["tokenreviews"], ["create"])))),
            Obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", Meta(ControllerName, null, "controller"),
                ("roleRef", RoleRef("ClusterRole", ControllerName)), ("subjects", new JsonArray(Subject(ControllerName, Ns)))),
            Obj("rbac.authorization.k8s.io/v1", "Role", Meta(ControllerName, Ns, "controller"), ("rules", new JsonArray(
                Rule([""], ["secrets"], ["get", "list", "watch"])))),
            Obj("rbac.authorization.k8s.io/v1", "RoleBinding", Meta(ControllerName, Ns, "controller"),
                ("roleRef", RoleRef("Role", ControllerName)), ("subjects", new JsonArray(Subject(ControllerName, Ns)))),
            Obj("v1", "Secret", Meta(IssuerSecret, Ns, "controller"), ("type", "kubernetes.io/tls"), ("data", new JsonObject
            {
                ["tls.crt"] = Base64(options.IssuerCertificatePem),
                ["tls.key"] = Base64(options.IssuerKeyPem),
                ["ca.crt"] = Base64(options.TrustAnchorPem),
            })),
            Deployment(ControllerName, "controller", options, ControllerContainer(options), serviceAccount: ControllerName, issuer: true),
            Obj("v1", "Service", Meta(ControllerName, Ns, "controller"), ("spec", new JsonObject
            {
                ["selector"] = new JsonObject { ["app.kubernetes.io/name"] = ControllerName },
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "grpc", ["port"] = ControllerGrpcPort, ["targetPort"] = ControllerGrpcPort }),
            })),
            Deployment(GatewayName, "gateway", options, GatewayContainer(options), serviceAccount: GatewayServiceAccount, issuer: false),
            Obj("v1", "Service", Meta(GatewayName, Ns, "gateway"), ("spec", new JsonObject
            {
                ["type"] = "LoadBalancer",
                ["selector"] = new JsonObject { ["app.kubernetes.io/name"] = GatewayName },
                ["ports"] = new JsonArray(new JsonObject { ["name"] = "mtls", ["port"] = options.GatewayPort, ["targetPort"] = GatewayContainerPort }),
            })),
        };
        return list;
    }

    /// <summary>What <c>fedmesh uninstall</c> deletes: everything install creates, in reverse order.</summary>
    public static IReadOnlyList<JsonObject> UninstallOrder(InstallOptions options) => Render(options).Reverse().ToList();

    /// <summary>
    /// What <c>fedmesh uninstall</c> deletes for <paramref name="cluster"/>. Deleting needs only kinds and names,
    /// so the issuer is a placeholder that no object sent to a server ever carries. With <paramref name="keepCrds"/>
    /// the CRDs stay, and so does the <c>fedmesh-system</c> namespace: deleting it would delete the Links (and their
    /// credentials Secrets) that live there, which is what keeping the CRDs is for.
    /// </summary>
    public static IReadOnlyList<JsonObject> UninstallOrder(string cluster, bool keepCrds = false)
    {
        var all = UninstallOrder(new InstallOptions
        {
            Cluster = cluster,
            IssuerCertificatePem = "-----BEGIN CERTIFICATE-----\nnot sent\n-----END CERTIFICATE-----\n",
            IssuerKeyPem = "-----BEGIN PRIVATE KEY-----\nnot sent\n-----END PRIVATE KEY-----\n",
            TrustAnchorPem = "-----BEGIN CERTIFICATE-----\nnot sent\n-----END CERTIFICATE-----\n",
        });
        return keepCrds ? all.Where(m => m["kind"]?.GetValue<string>() is not ("CustomResourceDefinition" or "Namespace")).ToList() : all;
    }

    private static JsonObject ControllerContainer(InstallOptions o) => new()
    {
        ["name"] = "controller",
        ["image"] = $"{o.ImageRepository}/controller:{o.ImageTag}",
        ["args"] = Strings("--Cluster", o.Cluster),
        ["env"] = new JsonArray(Env("FEDMESH_STORE", "kubernetes"), Env("FEDMESH_NAMESPACE", Ns), Env("FEDMESH_TRUST_DOMAIN", o.TrustDomain),
            Env("FEDMESH_ISSUER_DIR", "/var/run/fedmesh/issuer")),
        ["ports"] = new JsonArray(Port("grpc", ControllerGrpcPort), Port("admin", ControllerAdminPort)),
        ["readinessProbe"] = HttpProbe("/ready", ControllerAdminPort),
        ["volumeMounts"] = new JsonArray(new JsonObject { ["name"] = "issuer", ["mountPath"] = "/var/run/fedmesh/issuer", ["readOnly"] = true }),
        ["securityContext"] = Restricted(),
    };

    private static JsonObject GatewayContainer(InstallOptions o)
    {
        var container = new JsonObject
        {
            ["name"] = "gateway",
            ["image"] = $"{o.ImageRepository}/gateway:{o.ImageTag}",
            ["args"] = Strings("--Cluster", o.Cluster, "--TrustDomain", o.TrustDomain,
                "--Listen", $"0.0.0.0:{GatewayContainerPort}", "--AdminListen", $"0.0.0.0:{GatewayAdminPort}",
                "--Controller", ControllerUrl, "--TokenFile", TokenFile),
            ["ports"] = new JsonArray(Port("mtls", GatewayContainerPort), Port("admin", GatewayAdminPort)),
            ["readinessProbe"] = HttpProbe("/ready", GatewayAdminPort),
            ["volumeMounts"] = new JsonArray(TokenMount()),
            ["securityContext"] = Restricted(),
        };
        if (o.GatewayBusyPollMicroseconds > 0)
            container["env"] = new JsonArray(Env(Transport.BusyPolling.Variable, o.GatewayBusyPollMicroseconds.ToString(CultureInfo.InvariantCulture)));
        return container;
    }

    private static JsonObject Deployment(string name, string component, InstallOptions o, JsonObject container, string serviceAccount, bool issuer)
    {
        var pod = new JsonObject { ["serviceAccountName"] = serviceAccount, ["containers"] = new JsonArray(container) };
        // No API token for the gateway: only the projected one, which the controller's TokenReview accepts and the API server does not.
        if (!issuer) pod["automountServiceAccountToken"] = false;
        if (!issuer) pod["volumes"] = new JsonArray(TokenVolume());
        // Mounted under the file names CertificateAuthority.Load reads: the issuer's chain and key.
        if (issuer) pod["volumes"] = new JsonArray(new JsonObject { ["name"] = "issuer", ["secret"] = new JsonObject
        {
            ["secretName"] = IssuerSecret,
            ["items"] = new JsonArray(
                new JsonObject { ["key"] = "tls.crt", ["path"] = "ca.crt" },
                new JsonObject { ["key"] = "tls.key", ["path"] = "ca.key" },
                new JsonObject { ["key"] = "ca.crt", ["path"] = "anchor.crt" }),
        } });
        var podMeta = new JsonObject { ["labels"] = new JsonObject { ["app.kubernetes.io/name"] = name, [PartOfLabel] = "fedmesh", ["app.kubernetes.io/component"] = component } };
        return Obj("apps/v1", "Deployment", Meta(name, Ns, component), ("spec", new JsonObject
        {
            ["replicas"] = 1,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app.kubernetes.io/name"] = name } },
            ["template"] = new JsonObject { ["metadata"] = podMeta, ["spec"] = pod },
        }));
    }

    private static JsonObject Restricted() => new()
    {
        ["runAsNonRoot"] = true,
        ["allowPrivilegeEscalation"] = false,
        ["readOnlyRootFilesystem"] = true,
        ["capabilities"] = new JsonObject { ["drop"] = Strings("ALL") },
    };

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
