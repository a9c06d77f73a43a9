using System.Runtime.CompilerServices;
using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// The list-and-watch half shared by every kind: error translation, ordering, watch plumbing (bookmarks,
/// server error events, objects that are not ours). Subclasses name the list and watch calls (typed
/// KubernetesClient operations) and the conversion to our resources.
/// </summary>
internal abstract class WatchableKindAdapter<TObject, TList>(string cluster, ResourceKind kind) : IWatchableKind
    where TObject : class, IKubernetesObject<V1ObjectMeta>
    where TList : class, IItems<TObject>, IMetadata<V1ListMeta>
{
    public ResourceKind Kind { get; } = kind;

    protected string Cluster { get; } = cluster;

    protected abstract Task<HttpOperationResponse<TList>> ListCallAsync(string? @namespace, CancellationToken cancellationToken);
    protected abstract IAsyncEnumerable<(k8s.WatchEventType Type, TObject Item)> WatchCallAsync(string? @namespace, string resourceVersion, int timeoutSeconds, Action<Exception> onError, CancellationToken cancellationToken);

    protected abstract Resource ToResource(TObject item);

    /// <summary>Objects of this kind that are ours; others (e.g. EndpointSlices of other controllers) are skipped.</summary>
    protected virtual bool IsOurs(TObject item) => true;

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

    protected async Task<TResult> Call<TResult>(Func<Task<TResult>> call, string what, Resource? resource = null)
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

    protected static string In(string? @namespace) => @namespace is null ? " in all namespaces" : $" in namespace {@namespace}";
}

/// <summary>A watch asked for a resourceVersion the server no longer remembers (410 Gone): list again.</summary>
internal sealed class ResourceExpiredException(string resourceVersion, Exception inner)
    : Exception($"resourceVersion {resourceVersion} is too old for the API server's watch history", inner);
