using System.Text.Json.Nodes;

namespace FedMesh.Core.Kubernetes;

/// <summary>Constructors for the Kubernetes objects the manifests are made of.</summary>
internal static class ManifestObjects
{
    public static JsonObject Meta(string name, string? @namespace, string? component = null)
    {
        var labels = new JsonObject { [InstallDefaults.PartOfLabel] = "fedmesh" };
        if (component is not null) labels["app.kubernetes.io/component"] = component;
        var meta = new JsonObject { ["name"] = name };
        if (@namespace is not null) meta["namespace"] = @namespace;
        meta["labels"] = labels;
        return meta;
    }

    public static JsonObject Obj(string apiVersion, string kind, JsonObject metadata, params (string Key, JsonNode? Value)[] fields)
    {
        var o = new JsonObject { ["apiVersion"] = apiVersion, ["kind"] = kind, ["metadata"] = metadata };
        foreach (var (k, v) in fields) o[k] = v;
        return o;
    }

    public static JsonObject Rule(string[] groups, string[] resources, string[] verbs) => new()
    {
        ["apiGroups"] = Strings(groups),
        ["resources"] = Strings(resources),
        ["verbs"] = Strings(verbs),
    };

    public static JsonArray Strings(params string[] values) => new(values.Select(v => (JsonNode?)v).ToArray());

    public static JsonObject Subject(string serviceAccount, string @namespace) => new() { ["kind"] = "ServiceAccount", ["name"] = serviceAccount, ["namespace"] = @namespace };

    public static JsonObject RoleRef(string kind, string name) => new() { ["apiGroup"] = "rbac.authorization.k8s.io", ["kind"] = kind, ["name"] = name };

    public static JsonObject Port(string name, int port) => new() { ["name"] = name, ["containerPort"] = port, ["protocol"] = "TCP" };

    public static JsonObject Env(string name, string value) => new() { ["name"] = name, ["value"] = value };

    public static JsonObject HttpProbe(string path, int port) => new() { ["httpGet"] = new JsonObject { ["path"] = path, ["port"] = port }, ["periodSeconds"] = 5 };

    /// <summary>
    /// A projected service-account token for the controller's Identity service only: audience <c>fedmesh</c>, so the API
    /// server itself refuses it, and short-lived, rotated in place by the kubelet.
    /// </summary>
    public static JsonObject TokenVolume() => new()
    {
        ["name"] = InstallDefaults.TokenVolume,
        ["projected"] = new JsonObject
        {
            ["sources"] = new JsonArray(new JsonObject
            {
                ["serviceAccountToken"] = new JsonObject
                {
                    ["audience"] = InstallDefaults.TokenAudience,
                    ["expirationSeconds"] = InstallDefaults.TokenExpirationSeconds,
                    ["path"] = "token",
                },
            }),
        },
    };

    public static JsonObject TokenMount() => new() { ["name"] = InstallDefaults.TokenVolume, ["mountPath"] = InstallDefaults.TokenDirectory, ["readOnly"] = true };
}
