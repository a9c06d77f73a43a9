using System.Runtime.CompilerServices;
using FedMesh.Core.Resources;
using FedMesh.Core.Validation;
using k8s;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// A cluster store on the Kubernetes API, through KubernetesClient. Service is Kubernetes' Service (v1);
/// Endpoints is one EndpointSlice (discovery.k8s.io/v1) per object (see <see cref="EndpointSliceMapping"/>);
/// Link, TrafficSplit and FailoverPolicy are custom resources of fedmesh.io/v1alpha1.
/// Compare-and-swap is the API server's own: metadata.resourceVersion on replace and as a delete precondition.
/// 409 → <see cref="StoreConflictException"/>, 404 → <see cref="StoreNotFoundException"/>,
/// 401/403 → <see cref="StoreForbiddenException"/>, 422 → <see cref="ResourceValidationException"/>.
/// </summary>
public sealed partial class KubernetesClusterStore : IClusterStore, IDisposable
{
    private readonly IKubernetes _client;
    private readonly bool _ownsClient;
    private readonly KubernetesStoreOptions _options;
    private readonly Dictionary<Type, IKindAdapter> _adapters;

    /// <param name="cluster">The cluster's name in the federation, for messages.</param>
    /// <param name="client">A KubernetesClient for the cluster's API server.</param>
    /// <param name="options">Watch and retry settings; validated here.</param>
    /// <param name="ownsClient">Dispose <paramref name="client"/> with the store.</param>
    public KubernetesClusterStore(string cluster, IKubernetes client, KubernetesStoreOptions? options = null, bool ownsClient = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(cluster);
        ArgumentNullException.ThrowIfNull(client);
        _options = options ?? new KubernetesStoreOptions();
        var errors = _options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException($"invalid Kubernetes store options for cluster '{cluster}': {string.Join("; ", errors)}", nameof(options));
        Cluster = cluster;
        _client = client;
        _ownsClient = ownsClient;
        _adapters = new Dictionary<Type, IKindAdapter>
        {
            [typeof(Service)] = new ServiceAdapter(client, cluster),
            [typeof(Endpoints)] = new EndpointSliceAdapter(client, cluster),
            [typeof(Link)] = new CustomResourceAdapter(client, cluster, ResourceKinds.Link),
            [typeof(TrafficSplit)] = new CustomResourceAdapter(client, cluster, ResourceKinds.TrafficSplit),
            [typeof(FailoverPolicy)] = new CustomResourceAdapter(client, cluster, ResourceKinds.FailoverPolicy),
        };
    }

    /// <summary>Opens the store of a kubeconfig context (<paramref name="kubeconfig"/> null: $KUBECONFIG or ~/.kube/config).</summary>
    public static KubernetesClusterStore FromKubeconfig(string cluster, string context, string? kubeconfig = null, KubernetesStoreOptions? options = null)
    {
        var config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig, context);
        return new KubernetesClusterStore(cluster, new k8s.Kubernetes(config), options, ownsClient: true);
    }

    public string Cluster { get; }

    public async Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken = default) where T : Resource =>
        (T?)await Adapter<T>().GetAsync(@namespace, name, cancellationToken).ConfigureAwait(false);

    public async Task<IReadOnlyList<T>> ListAsync<T>(string? @namespace = null, CancellationToken cancellationToken = default) where T : Resource
    {
        var page = await Adapter<T>().ListAsync(@namespace, cancellationToken).ConfigureAwait(false);
        return page.Items.Cast<T>().ToList();
    }

    public async Task<T> CreateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource
    {
        ResourceValidator.EnsureValid(resource);
        return (T)await Adapter<T>().CreateAsync(resource, cancellationToken).ConfigureAwait(false);
    }

    public async Task<T> UpdateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource
    {
        ResourceValidator.EnsureValid(resource);
        return (T)await Adapter<T>().ReplaceAsync(resource, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> DeleteAsync<T>(string @namespace, string name, string? resourceVersion = null, CancellationToken cancellationToken = default) where T : Resource =>
        Adapter<T>().DeleteAsync(@namespace, name, resourceVersion, cancellationToken);

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? @namespace = null, [EnumeratorCancellation] CancellationToken cancellationToken = default) where T : Resource
    {
        var watch = new ResourceWatch(Adapter<T>(), Cluster, @namespace, _options);
        await foreach (var e in watch.RunAsync(cancellationToken).ConfigureAwait(false))
            yield return new WatchEvent<T>(e.Type, (T?)e.Object);
    }

    public void Dispose()
    {
        if (_ownsClient) _client.Dispose();
    }

    private IKindAdapter Adapter<T>() where T : Resource =>
        _adapters.TryGetValue(typeof(T), out var adapter) ? adapter
        : throw new ArgumentException($"{typeof(T).Name} is not a kind the Kubernetes store knows; known kinds: {string.Join(", ", ResourceKinds.All.Select(k => k.Kind))}");
}
