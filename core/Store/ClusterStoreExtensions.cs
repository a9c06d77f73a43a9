using FedMesh.Core.Resources;

namespace FedMesh.Core.Store;

/// <summary>Read-modify-write helpers over the compare-and-swap contract.</summary>
public static class ClusterStoreExtensions
{
    /// <summary>
    /// Reads the object, applies <paramref name="mutate"/> and writes it back, retrying on conflict.
    /// <paramref name="mutate"/> gets the current object (null if absent) and returns the desired one,
    /// or null to delete it. Returns the stored result (null if deleted or left absent).
    /// </summary>
    public static async Task<T?> MutateAsync<T>(this IClusterStore store, string @namespace, string name, Func<T?, T?> mutate, CancellationToken cancellationToken = default, int maxAttempts = 64)
        where T : Resource
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await store.GetAsync<T>(@namespace, name, cancellationToken).ConfigureAwait(false);
            var desired = mutate(current);
            try
            {
                if (desired is null)
                {
                    if (current is not null)
                        await store.DeleteAsync<T>(@namespace, name, current.Metadata.ResourceVersion, cancellationToken).ConfigureAwait(false);
                    return null;
                }
                desired.Metadata.Name = name;
                desired.Metadata.Namespace = @namespace;
                if (current is null)
                    return await store.CreateAsync(desired, cancellationToken).ConfigureAwait(false);
                desired.Metadata.ResourceVersion = current.Metadata.ResourceVersion;
                return await store.UpdateAsync(desired, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when ((e is StoreConflictException || e is StoreNotFoundException) && attempt < maxAttempts)
            {
                // Someone else wrote in between: read again and reapply.
                await Task.Delay(Random.Shared.Next(1, 5 + attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Creates the object or replaces it with <paramref name="resource"/>, retrying on conflict.</summary>
    public static Task<T?> ApplyAsync<T>(this IClusterStore store, T resource, CancellationToken cancellationToken = default) where T : Resource
        => store.MutateAsync<T>(resource.Namespace, resource.Name, _ => resource, cancellationToken);
}
