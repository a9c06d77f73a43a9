using System.Runtime.CompilerServices;
using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// The shared half of every kind: error translation, ordering, watch plumbing. Subclasses name the
/// API calls (typed KubernetesClient operations) and the conversion to and from our resources.
/// </summary>
internal abstract class KindAdapter<TObject, TList>(string cluster, ResourceKind kind) : IKindAdapter
    where TObject : class, IKubernetesObject<V1ObjectMeta>
    where TList : class, IItems<TObject>, IMetadata<V1ListMeta>
{
    public ResourceKind Kind { get; } = kind;

    protected string Cluster { get; } = cluster;

    protected abstract Task<HttpOperationResponse<TList>> ListCallAsync(string? @namespace, CancellationToken cancellationToken);
    protected abstract IAsyncEnumerable<(k8s.WatchEventType Type, TObject Item)> WatchCallAsync(string? @namespace, string resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken cancellationToken);
    protected abstract Task<TObject> ReadCallAsync(string @namespace, string name, CancellationToken cancellationToken);
    protected abstract Task<TObject> CreateCallAsync(TObject body, string @namespace, CancellationToken cancellationToken);
    protected abstract Task<TObject> ReplaceCallAsync(TObject body, string @namespace, string name, CancellationToken cancellationToken);
    protected abstract Task DeleteCallAsync(string @namespace, string name, V1DeleteOptions options, CancellationToken cancellationToken);

    protected abstract Resource ToResource(TObject item);
    protected abstract TObject FromResource(Resource resource);

    /// <summary>Objects of this kind that are ours; others (e.g. EndpointSlices of other controllers) are skipped.</summary>
    protected virtual bool IsOurs(TObject item) => true;

    /// <summary>Replace starts from this object; Services override it to keep fields our model does not carry.</summary>
    protected virtual Task<TObject> PrepareReplaceAsync(TObject desired, CancellationToken cancellationToken) => Task.FromResult(desired);

    public async Task<ResourcePage> ListAsync(string? @namespace, CancellationToken cancellationToken)
    {
        var response = await Call(() => ListCallAsync(@namespace, cancellationToken), $"listing {Kind.Plural}{In(@namespace)}").ConfigureAwait(false);
        var list = response.Body;
        var items = new List<Resource>();
        foreach (var item in list.Items)
            if (IsOurs(item)) items.Add(ToResource(item));
        items.Sort(static (a, b) => string.CompareOrdinal(a.Namespace, b.Namespace) is var c and not 0 ? c : string.CompareOrdinal(a.Name, b.Name));
        return new ResourcePage(items, list.Metadata?.ResourceVersion ?? "");
    }

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

    public async IAsyncEnumerable<RawWatchEvent> WatchAsync(string? @namespace, string resourceVersion, int timeoutSeconds, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Exception? serverError = null;
        var events = WatchCallAsync(@namespace, resourceVersion, timeoutSeconds, e => { serverError ??= e; stop.Cancel(); }, stop.Token);
        await using var enumerator = events.GetAsyncEnumerator(stop.Token);
        while (true)
        {
            bool more;
            try
            {
                more = await enumerator.MoveNextAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (serverError is not null && !cancellationToken.IsCancellationRequested)
            {
                more = false;
            }
            catch (HttpOperationException e)
            {
                throw KubernetesErrors.Translate(e, Cluster, $"watching {Kind.Plural}{In(@namespace)}");
            }
            if (serverError is not null)
                throw KubernetesErrors.IsGone(serverError) ? new ResourceExpiredException(resourceVersion, serverError)
                    : KubernetesErrors.Translate(serverError, Cluster, $"watching {Kind.Plural}{In(@namespace)}");
            if (!more) yield break;
            var (type, item) = enumerator.Current;
            if (type == k8s.WatchEventType.Bookmark)
                yield return new RawWatchEvent(type, null, item?.Metadata?.ResourceVersion);
            else if (item is not null && IsOurs(item))
                yield return new RawWatchEvent(type, ToResource(item), item.Metadata?.ResourceVersion);
            else if (item is not null)
                yield return new RawWatchEvent(k8s.WatchEventType.Bookmark, null, item.Metadata?.ResourceVersion);
        }
    }

    private async Task<TResult> Call<TResult>(Func<Task<TResult>> call, string what, Resource? resource = null)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            throw KubernetesErrors.Translate(e, Cluster, what, resource);
        }
    }

    private static string In(string? @namespace) => @namespace is null ? " in all namespaces" : $" in namespace {@namespace}";
}

/// <summary>A watch asked for a resourceVersion the server no longer remembers (410 Gone): list again.</summary>
internal sealed class ResourceExpiredException(string resourceVersion, Exception inner)
    : Exception($"resourceVersion {resourceVersion} is too old for the API server's watch history", inner);
