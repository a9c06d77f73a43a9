using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Targets;

namespace FedMesh.MirrorController.Tests.Support;

/// <summary>Test scaffolding: target stores by cluster name.</summary>
internal sealed class DictionaryTargetResolver(params IClusterStore[] stores) : ITargetStoreResolver
{
    private readonly Dictionary<string, IClusterStore> _stores = stores.ToDictionary(s => s.Cluster);

    public ValueTask<IClusterStore> OpenAsync(Link link, CancellationToken cancellationToken) =>
        _stores.TryGetValue(link.Spec.TargetCluster, out var store)
            ? ValueTask.FromResult(store)
            : throw new TargetUnreachableException($"no cluster '{link.Spec.TargetCluster}'");
}
