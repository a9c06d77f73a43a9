using FedMesh.Core.Resources;

namespace FedMesh.Core.Store;

/// <summary>
/// One cluster's resources. Backends: the local directory (embedded default) and Kubernetes.
/// Every method returns fresh copies; callers may change them freely.
/// </summary>
public interface IClusterStore
{
    /// <summary>The cluster this store belongs to.</summary>
    string Cluster { get; }

    Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken = default) where T : Resource;

    /// <summary>Lists objects of one kind, in one namespace or (null) in all, ordered by namespace then name.</summary>
    Task<IReadOnlyList<T>> ListAsync<T>(string? @namespace = null, CancellationToken cancellationToken = default) where T : Resource;

    /// <summary>Creates the object; throws <see cref="StoreConflictException"/> if it exists. Returns it with its resourceVersion.</summary>
    Task<T> CreateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource;

    /// <summary>
    /// Replaces the object if its stored resourceVersion equals <c>resource.Metadata.ResourceVersion</c>
    /// (compare-and-swap); otherwise throws <see cref="StoreConflictException"/>. Throws
    /// <see cref="StoreNotFoundException"/> if it does not exist.
    /// </summary>
    Task<T> UpdateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource;

    /// <summary>Deletes the object; false if it did not exist. With a resourceVersion, deletes only that version.</summary>
    Task<bool> DeleteAsync<T>(string @namespace, string name, string? resourceVersion = null, CancellationToken cancellationToken = default) where T : Resource;

    /// <summary>
    /// List-then-watch: yields <see cref="WatchEventType.Added"/> for every existing object, then a
    /// <see cref="WatchEventType.Synced"/> marker, then every change until cancelled. A backend
    /// that misses notifications resynchronises and emits only real differences.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? @namespace = null, CancellationToken cancellationToken = default) where T : Resource;
}

public enum WatchEventType { Added, Modified, Deleted, Synced }

/// <summary>A change seen by a watch. <see cref="Object"/> is null only for <see cref="WatchEventType.Synced"/>.</summary>
public sealed record WatchEvent<T>(WatchEventType Type, T? Object) where T : Resource;

/// <summary>The object exists already, or its resourceVersion changed since it was read.</summary>
public sealed class StoreConflictException(string message) : Exception(message);

/// <summary>The object does not exist.</summary>
public sealed class StoreNotFoundException(string message) : Exception(message);
