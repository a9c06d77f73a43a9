using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.Linker.Commands;

/// <summary>
/// The semantic check the schema cannot make: every backend of a split must exist as seen from the
/// cluster it is applied to — a local service in that cluster's store, or a linked cluster's service
/// mirrored into it. Used by <c>fedmesh apply</c> and <c>fedmesh canary</c> before anything is written.
/// </summary>
internal static class SplitBackendCheck
{
    /// <summary>Every problem with <paramref name="split"/>'s backends in <paramref name="store"/>; empty when all exist.</summary>
    /// <remarks>Services in <paramref name="pending"/> (the same file) count as existing.</remarks>
    public static async Task<IReadOnlyList<string>> ProblemsAsync(IClusterStore store, TrafficSplit split, CancellationToken ct, IReadOnlyList<Resource>? pending = null)
    {
        var problems = new List<string>();
        var cluster = store.Cluster;
        var ns = split.Namespace;
        IReadOnlyList<Link>? links = null;
        for (var i = 0; i < split.Spec.Backends.Count; i++)
        {
            var backend = split.Spec.Backends[i];
            var where = $"spec.backends[{i}] ({backend.Service}@{(string.IsNullOrEmpty(backend.Cluster) ? cluster : backend.Cluster)})";
            if (string.IsNullOrEmpty(backend.Cluster) || backend.Cluster == cluster)
            {
                var inFile = pending?.Any(r => r is Service && r.Namespace == ns && r.Name == backend.Service) == true;
                if (!inFile && await store.GetAsync<Service>(ns, backend.Service, ct).ConfigureAwait(false) is null)
                    problems.Add($"{where}: service '{backend.Service}' does not exist in cluster {cluster} (namespace {ns}); create it first or fix the name ('fedmesh get services --cluster {cluster}' lists them)");
                continue;
            }
            links ??= await store.ListAsync<Link>(null, ct).ConfigureAwait(false);
            if (!links.Any(l => l.Spec.TargetCluster == backend.Cluster))
            {
                problems.Add($"{where}: cluster '{backend.Cluster}' is not linked to {cluster}; run 'fedmesh link {cluster} {backend.Cluster}' first");
                continue;
            }
            var mirror = WellKnown.MirrorName(backend.Service, backend.Cluster);
            if (await store.GetAsync<Service>(ns, mirror, ct).ConfigureAwait(false) is null)
                problems.Add($"{where}: service '{backend.Service}' of cluster {backend.Cluster} is not mirrored into {cluster} (no service '{mirror}' in namespace {ns}); does it exist in {backend.Cluster} with the label {WellKnown.ExportedLabel}: \"true\"?");
        }
        return problems;
    }

    /// <summary>Throws a <see cref="CliException"/> listing every problem, saying nothing was changed.</summary>
    public static async Task EnsureAsync(IClusterStore store, TrafficSplit split, string what, CancellationToken ct)
    {
        var problems = await ProblemsAsync(store, split, ct).ConfigureAwait(false);
        if (problems.Count > 0)
            throw new CliException($"{what} was not applied; nothing changed:\n" + string.Join("\n", problems.Select(p => $"  trafficsplit/{split.Name}: {p}")));
    }
}
