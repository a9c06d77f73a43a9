using System.Net;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Linker.Kubernetes;

/// <summary>
/// Applies and deletes the manifests of <c>fedmesh install</c> as <c>kubectl apply</c> would for them:
/// create, or merge-patch what is already there (so fields the server filled in, such as a Service's
/// clusterIP, are kept). Only the kinds install renders are known.
/// </summary>
internal sealed class ManifestApplier(IKubernetes client, string cluster, TextWriter output)
{
    public async Task ApplyAsync(IReadOnlyList<JsonObject> manifests, CancellationToken cancellationToken)
    {
        foreach (var manifest in manifests)
        {
            var (kind, name, ns, ops) = Describe(manifest);
            var json = manifest.ToJsonString();
            try
            {
                await ops.Create(client, json, ns, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"{kind.ToLowerInvariant()}/{name} created in cluster {cluster}").ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
            {
                await Call(() => ops.Patch(client, new V1Patch(json, V1Patch.PatchType.MergePatch), name, ns, cancellationToken), "updating", kind, name, ns).ConfigureAwait(false);
                await output.WriteLineAsync($"{kind.ToLowerInvariant()}/{name} configured in cluster {cluster}").ConfigureAwait(false);
            }
            catch (HttpOperationException e)
            {
                throw Failure(e, "creating", kind, name, ns);
            }
        }
    }

    /// <summary>Deletes every manifest; what is already gone is reported, not an error.</summary>
    public async Task DeleteAsync(IReadOnlyList<JsonObject> manifests, CancellationToken cancellationToken)
    {
        foreach (var manifest in manifests)
        {
            var (kind, name, ns, ops) = Describe(manifest);
            try
            {
                await ops.Delete(client, name, ns, cancellationToken).ConfigureAwait(false);
                await output.WriteLineAsync($"{kind.ToLowerInvariant()}/{name} deleted from cluster {cluster}").ConfigureAwait(false);
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                await output.WriteLineAsync($"{kind.ToLowerInvariant()}/{name} not found in cluster {cluster}").ConfigureAwait(false);
            }
            catch (HttpOperationException e)
            {
                throw Failure(e, "deleting", kind, name, ns);
            }
        }
    }

    private static (string Kind, string Name, string? Namespace, ManifestKinds.Operations Ops) Describe(JsonObject manifest)
    {
        var kind = manifest["kind"]?.GetValue<string>() ?? "";
        var name = manifest["metadata"]?["name"]?.GetValue<string>() ?? "";
        var ns = manifest["metadata"]?["namespace"]?.GetValue<string>();
        if (!ManifestKinds.All.TryGetValue(kind, out var ops))
            throw new InvalidOperationException($"manifest {kind} '{name}' is of a kind install does not know how to apply; known: {string.Join(", ", ManifestKinds.All.Keys)}");
        return (kind, name, ns, ops);
    }

    private async Task Call(Func<Task> call, string verb, string kind, string name, string? ns)
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            throw Failure(e, verb, kind, name, ns);
        }
    }

    private CliException Failure(HttpOperationException e, string verb, string kind, string name, string? ns)
    {
        var where = ns is null ? name : $"{ns}/{name}";
        var why = e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized
            ? "; the kubeconfig's user needs cluster-admin rights to install"
            : "";
        return new CliException($"{verb} {kind} {where} in cluster {cluster} failed with HTTP {(int)e.Response.StatusCode}: {Reason(e)}{why}");
    }

    private static string Reason(HttpOperationException e)
    {
        try
        {
            return KubernetesJson.Deserialize<V1Status>(e.Response.Content)?.Message ?? e.Message;
        }
        catch (System.Text.Json.JsonException)
        {
            return e.Message;
        }
    }
}
