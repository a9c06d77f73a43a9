using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Watching;

/// <summary>Receives what a <see cref="StoreInformer{T}"/> sees, in order, from one task.</summary>
internal interface IInformerHandler<in T> where T : Resource
{
    /// <summary>A (re)list completed: <paramref name="items"/> is everything that exists now and replaces what was known.</summary>
    ValueTask OnSyncedAsync(IReadOnlyList<T> items, CancellationToken cancellationToken);

    ValueTask OnUpsertAsync(T item, CancellationToken cancellationToken);

    ValueTask OnDeleteAsync(T item, CancellationToken cancellationToken);

    /// <summary>The store could not be opened or the watch broke; the informer retries with backoff.</summary>
    ValueTask OnErrorAsync(Exception error, CancellationToken cancellationToken);
}
