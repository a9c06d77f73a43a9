using System.Text.Json.Nodes;
using FedMesh.Kubernetes.Tests.Schema;

namespace FedMesh.Kubernetes.Tests.ApiServer;

internal sealed partial class FakeApiServer
{
    private static readonly string[] BuiltInGroups = ["", "apps", "discovery.k8s.io", "rbac.authorization.k8s.io", "apiextensions.k8s.io"];

    /// <summary>Installs CRDs as <c>kubectl apply</c> would.</summary>
    public void InstallCrds(IEnumerable<JsonObject> crds)
    {
        foreach (var crd in crds)
            Objects.Create(new ApiPath("apiextensions.k8s.io", "v1", "customresourcedefinitions", null, null), JsonNode.Parse(crd.ToJsonString())!.AsObject());
    }

    /// <summary>A group that is not built in is served only once a CRD for it exists (404 before, as a real server).</summary>
    private void EnsureServed(ApiPath path)
    {
        if (BuiltInGroups.Contains(path.Group)) return;
        if (Schema(path) is null)
            throw new ApiError(404, "NotFound", "the server could not find the requested resource");
    }

    /// <summary>Custom resources are checked against their CRD's structural schema: 422 Invalid with one cause per field.</summary>
    private void Validate(ApiPath path, JsonObject body)
    {
        if (BuiltInGroups.Contains(path.Group) || Schema(path) is not { } schema) return;
        var errors = StructuralSchemaChecker.Check(schema, body);
        if (errors.Count == 0) return;
        var kind = body["kind"]?.GetValue<string>() ?? path.Resource;
        var name = body["metadata"]?["name"]?.GetValue<string>() ?? "";
        var causes = new JsonArray(errors.Select(e => (JsonNode?)new JsonObject { ["reason"] = "FieldValueInvalid", ["message"] = $"{e.Field}: {e.Message}", ["field"] = e.Field }).ToArray());
        throw new ApiError(422, "Invalid", $"{kind}.{path.Group} \"{name}\" is invalid: {string.Join(", ", errors.Select(e => $"{e.Field}: {e.Message}"))}", causes);
    }

    private JsonObject? Schema(ApiPath path)
    {
        foreach (var crd in Objects.All("apiextensions.k8s.io", "customresourcedefinitions"))
        {
            if (crd["spec"]?["group"]?.GetValue<string>() != path.Group || crd["spec"]?["names"]?["plural"]?.GetValue<string>() != path.Resource) continue;
            foreach (var version in crd["spec"]?["versions"] as JsonArray ?? [])
                if (version?["name"]?.GetValue<string>() == path.Version && version["served"]?.GetValue<bool>() == true)
                    return version["schema"]?["openAPIV3Schema"] as JsonObject;
        }
        return null;
    }
}
