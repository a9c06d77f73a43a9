using System.Reflection;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.Linker;

/// <summary>The store's generic methods called with a kind known only at run time (from YAML or the command line).</summary>
internal static class StoreByKind
{
    public static Task<Resource?> GetAsync(IClusterStore store, ResourceKind kind, string ns, string name, CancellationToken ct) =>
        Call<Resource?>(nameof(GetTyped), kind.Type, store, ns, name, ct);

    public static Task<IReadOnlyList<Resource>> ListAsync(IClusterStore store, ResourceKind kind, string? ns, CancellationToken ct) =>
        Call<IReadOnlyList<Resource>>(nameof(ListTyped), kind.Type, store, ns, ct);

    public static Task<Resource?> ApplyAsync(IClusterStore store, Resource resource, CancellationToken ct) =>
        Call<Resource?>(nameof(ApplyTyped), resource.GetType(), store, resource, ct);

    public static Task<bool> DeleteAsync(IClusterStore store, ResourceKind kind, string ns, string name, CancellationToken ct) =>
        Call<bool>(nameof(DeleteTyped), kind.Type, store, ns, name, ct);

    private static Task<TResult> Call<TResult>(string method, Type type, params object?[] args) =>
        (Task<TResult>)typeof(StoreByKind).GetMethod(method, BindingFlags.NonPublic | BindingFlags.Static)!.MakeGenericMethod(type).Invoke(null, args)!;

    private static async Task<Resource?> GetTyped<T>(IClusterStore store, string ns, string name, CancellationToken ct) where T : Resource =>
        await store.GetAsync<T>(ns, name, ct).ConfigureAwait(false);

    private static async Task<IReadOnlyList<Resource>> ListTyped<T>(IClusterStore store, string? ns, CancellationToken ct) where T : Resource =>
        await store.ListAsync<T>(ns, ct).ConfigureAwait(false);

    private static async Task<Resource?> ApplyTyped<T>(IClusterStore store, T resource, CancellationToken ct) where T : Resource =>
        await store.ApplyAsync(resource, ct).ConfigureAwait(false);

    private static Task<bool> DeleteTyped<T>(IClusterStore store, string ns, string name, CancellationToken ct) where T : Resource =>
        store.DeleteAsync<T>(ns, name, cancellationToken: ct);
}
