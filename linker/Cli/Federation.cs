using FedMesh.Core.Federation;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using FedMesh.Core.Store.Local;

namespace FedMesh.Linker;

/// <summary>The federation a command works on: its configuration and its clusters' stores.</summary>
internal sealed class Federation(FederationPaths paths, FederationConfig config) : IDisposable
{
    private readonly Dictionary<string, IClusterStore> _stores = new(StringComparer.Ordinal);

    public FederationPaths Paths { get; } = paths;
    public FederationConfig Config { get; } = config;

    /// <summary>Loads the federation at <paramref name="paths"/>, or explains how to create one.</summary>
    public static Federation Load(FederationPaths paths)
    {
        if (!File.Exists(paths.ConfigFile))
            throw new CliException($"no federation at {paths.Home} (no config.yaml); create one with 'fedmesh up' or choose another with --home");
        return new Federation(paths, FederationConfigFile.Load(paths.ConfigFile));
    }

    /// <summary>The named cluster; an unknown name is an error that lists the known ones.</summary>
    public ClusterConfig Cluster(string name) =>
        Config.Find(name) ?? throw new CliException($"unknown cluster '{name}'; clusters in this federation: {string.Join(", ", ClusterNames)}");

    /// <summary>The cluster named by --cluster, or the federation's first cluster.</summary>
    public ClusterConfig ClusterOrDefault(string? name) =>
        name is not null ? Cluster(name) : Config.Clusters.Count > 0 ? Config.Clusters[0] : throw new CliException("the federation has no clusters");

    public IEnumerable<string> ClusterNames => Config.Clusters.Select(c => c.Name);

    /// <summary>The cluster's store, opened once per command and closed with the federation.</summary>
    public IClusterStore Store(ClusterConfig cluster)
    {
        if (_stores.TryGetValue(cluster.Name, out var open)) return open;
        IClusterStore store = cluster.Type switch
        {
            "local" => new LocalClusterStore(cluster.Name, Paths.StoreDirectory(cluster)),
            "kubernetes" => new KubernetesClusterStore(cluster.Name, Kubernetes.KubeContexts.Open(cluster), ownsClient: true),
            _ => throw new CliException($"cluster '{cluster.Name}' is of type '{cluster.Type}', which this command cannot reach yet"),
        };
        _stores[cluster.Name] = store;
        return store;
    }

    public void Dispose()
    {
        foreach (var store in _stores.Values) (store as IDisposable)?.Dispose();
        _stores.Clear();
    }
}
