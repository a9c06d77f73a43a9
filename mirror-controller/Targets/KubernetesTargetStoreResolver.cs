using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using k8s;

namespace FedMesh.MirrorController.Targets;

/// <summary>
/// Kubernetes mode: a link's target is reached with the credentials in the Secret its
/// <c>spec.credentialsSecret</c> names, read from this controller's own cluster. The Secret is read on every
/// open (each watch start or restart), so credentials replaced by a new <c>fedmesh link</c> take effect at once;
/// the store is reused while they stay the same.
/// </summary>
internal sealed class KubernetesTargetStoreResolver(IKubernetes local, KubernetesStoreOptions targetOptions) : ITargetStoreResolver, IAsyncDisposable
{
    private readonly Dictionary<string, (LinkCredentialValues Credentials, KubernetesClusterStore Store)> _open = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async ValueTask<IClusterStore> OpenAsync(Link link, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(link.Spec.TargetCluster))
            throw new TargetUnreachableException($"{link} names no targetCluster; run 'fedmesh link' again");
        LinkCredentialValues credentials;
        try
        {
            credentials = await LinkCredentials.ReadAsync(local, link, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is StoreNotFoundException or StoreForbiddenException)
        {
            throw new TargetUnreachableException(e.Message, e);
        }

        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var key = link.Namespace + "/" + link.Name;
            if (_open.TryGetValue(key, out var open))
            {
                if (open.Credentials == credentials && open.Store.Cluster == link.Spec.TargetCluster)
                    return open.Store;
                open.Store.Dispose();
            }
            KubernetesClusterStore store;
            try
            {
                store = LinkCredentials.Open(link.Spec.TargetCluster, credentials, targetOptions);
            }
            catch (Exception e) when (e is ArgumentException or System.Security.Cryptography.CryptographicException or UriFormatException)
            {
                _open.Remove(key);
                throw new TargetUnreachableException($"the credentials Secret {link.Namespace}/{link.Spec.CredentialsSecret} of {link} cannot be used ({e.Message}); run 'fedmesh link' again", e);
            }
            _open[key] = (credentials, store);
            return store;
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var (_, store) in _open.Values) store.Dispose();
        _open.Clear();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}
