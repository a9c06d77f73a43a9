using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// A kind of our store: the list-and-watch half of <see cref="WatchableKindAdapter{TObject, TList}"/> plus get,
/// create, replace and delete. Subclasses name the API calls and the conversion both ways.
/// </summary>
internal abstract class KindAdapter<TObject, TList>(string cluster, ResourceKind kind)
    : WatchableKindAdapter<TObject, TList>(cluster, kind), IKindAdapter
    where TObject : class, IKubernetesObject<V1ObjectMeta>
    where TList : class, IItems<TObject>, IMetadata<V1ListMeta>
{
    protected abstract Task<TObject> ReadCallAsync(string @namespace, string name, CancellationToken cancellationToken);
    protected abstract Task<TObject> CreateCallAsync(TObject body, string @namespace, CancellationToken cancellationToken);
    protected abstract Task<TObject> ReplaceCallAsync(TObject body, string @namespace, string name, CancellationToken cancellationToken);
    protected abstract Task DeleteCallAsync(string @namespace, string name, V1DeleteOptions options, CancellationToken cancellationToken);

    protected abstract TObject FromResource(Resource resource);

    /// <summary>Replace starts from this object; Services override it to keep fields our model does not carry.</summary>
    protected virtual Task<TObject> PrepareReplaceAsync(TObject desired, CancellationToken cancellationToken) => Task.FromResult(desired);

    public async Task<Resource?> GetAsync(string @namespace, string name, CancellationToken cancellationToken)
    {
        try
        {
            var item = await ReadCallAsync(@namespace, name, cancellationToken).ConfigureAwait(false);
            return IsOurs(item) ? ToResource(item) : null;
        }
        catch (Exception e) when (KubernetesErrors.IsNotFound(e))
        {
            return null;
        }
        catch (HttpOperationException e)
        {
            throw KubernetesErrors.Translate(e, Cluster, $"reading {Kind.Kind} {@namespace}/{name}");
        }
    }

    public async Task<Resource> CreateAsync(Resource resource, CancellationToken cancellationToken)
    {
        var body = FromResource(resource);
        body.Metadata.ResourceVersion = null;
        var created = await Call(() => CreateCallAsync(body, resource.Namespace, cancellationToken), $"creating {resource}", resource).ConfigureAwait(false);
        return ToResource(created);
    }

    public async Task<Resource> ReplaceAsync(Resource resource, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(resource.Metadata.ResourceVersion))
            throw new StoreConflictException($"updating {resource} in cluster '{Cluster}': metadata.resourceVersion is empty; read the object first and update what you read");
        var what = $"updating {resource}";
        var body = await Call(() => PrepareReplaceAsync(FromResource(resource), cancellationToken), what, resource).ConfigureAwait(false);
        var replaced = await Call(() => ReplaceCallAsync(body, resource.Namespace, resource.Name, cancellationToken), what, resource).ConfigureAwait(false);
        return ToResource(replaced);
    }

    public async Task<bool> DeleteAsync(string @namespace, string name, string? resourceVersion, CancellationToken cancellationToken)
    {
        var options = new V1DeleteOptions { Preconditions = resourceVersion is null ? null : new V1Preconditions { ResourceVersion = resourceVersion } };
        try
        {
            await DeleteCallAsync(@namespace, name, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (KubernetesErrors.IsNotFound(e))
        {
            return false;
        }
        catch (HttpOperationException e)
        {
            throw KubernetesErrors.Translate(e, Cluster, $"deleting {Kind.Kind} {@namespace}/{name}");
        }
    }
}
