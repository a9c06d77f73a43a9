using System.Collections.Concurrent;
using FedMesh.Core.Federation;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Targets;

/// <summary>
/// Local federation: the target is a cluster of <c>config.yaml</c> with a store directory. The config
/// is read again when a link names a cluster it does not know yet (clusters added after start-up).
/// </summary>
internal sealed class LocalTargetStoreResolver(
    FederationPaths paths,
    Func<string, FederationConfig> loadConfig,
    Func<ClusterConfig, string, IClusterStore> openStore) : ITargetStoreResolver, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, IClusterStore> _stores = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async ValueTask<IClusterStore> OpenAsync(Link link, CancellationToken cancellationToken)
    {
        var target = link.Spec.TargetCluster;
        if (string.IsNullOrEmpty(target))
            throw new TargetUnreachableException($"{link} names no targetCluster; set spec.targetCluster to a cluster of {paths.ConfigFile}");
        if (_stores.TryGetValue(target, out var cached))
            return cached;

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stores.TryGetValue(target, out cached))
                return cached;
            FederationConfig config;
            try
            {
                config = loadConfig(paths.ConfigFile);
            }
            catch (Exception e)
            {
                throw new TargetUnreachableException($"cannot read {paths.ConfigFile} to find cluster '{target}': {e.Message}", e);
            }
            var cluster = config.Find(target)
                ?? throw new TargetUnreachableException($"cluster '{target}' is not in {paths.ConfigFile}; add it or fix spec.targetCluster of {link}");
            if (!string.Equals(cluster.Type, "local", StringComparison.OrdinalIgnoreCase))
                throw new TargetUnreachableException($"cluster '{target}' is of type '{cluster.Type}'; this controller runs in local mode and can only mirror local clusters");
            var directory = paths.StoreDirectory(cluster);
            if (!Directory.Exists(directory))
                throw new TargetUnreachableException($"the store of cluster '{target}' does not exist at {directory}; is the cluster initialised?");
            IClusterStore store;
            try
            {
                store = openStore(cluster, directory);
            }
            catch (Exception e)
            {
                throw new TargetUnreachableException($"cannot open the store of cluster '{target}' at {directory}: {e.Message}", e);
            }
            _stores[target] = store;
            return store;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores.Values)
        {
            if (store is IAsyncDisposable asyncDisposable) await asyncDisposable.DisposeAsync().ConfigureAwait(false);
            else if (store is IDisposable disposable) disposable.Dispose();
        }
        _stores.Clear();
        _gate.Dispose();
    }
}
