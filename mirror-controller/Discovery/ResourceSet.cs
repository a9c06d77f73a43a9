using System.Collections.Immutable;
using FedMesh.Core.Resources;
using FedMesh.MirrorController.Watching;

namespace FedMesh.MirrorController.Discovery;

/// <summary>The current objects of one kind, as an immutable map swapped on every change; readers never lock.</summary>
internal sealed class ResourceSet<T>(Action changed) : IInformerHandler<T> where T : Resource
{
    private ImmutableDictionary<string, T> _items = ImmutableDictionary.Create<string, T>(StringComparer.Ordinal);
    private volatile bool _synced;

    public ImmutableDictionary<string, T> Items => Volatile.Read(ref _items);

    public bool Synced => _synced;

    public ValueTask OnSyncedAsync(IReadOnlyList<T> items, CancellationToken cancellationToken)
    {
        var builder = ImmutableDictionary.CreateBuilder<string, T>(StringComparer.Ordinal);
        foreach (var item in items)
            builder[Key(item)] = item;
        Volatile.Write(ref _items, builder.ToImmutable());
        _synced = true;
        changed();
        return ValueTask.CompletedTask;
    }

    public ValueTask OnUpsertAsync(T item, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _items, _items.SetItem(Key(item), item));
        changed();
        return ValueTask.CompletedTask;
    }

    public ValueTask OnDeleteAsync(T item, CancellationToken cancellationToken)
    {
        Volatile.Write(ref _items, _items.Remove(Key(item)));
        changed();
        return ValueTask.CompletedTask;
    }

    public ValueTask OnErrorAsync(Exception error, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public static string Key(Resource resource) => resource.Namespace + "/" + resource.Name;
}
