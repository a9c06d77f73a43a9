using FedMesh.Core.Resources;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// A kind as <see cref="ResourceWatch"/> reads it: list, then watch. Our store kinds are also writable
/// (<see cref="IKindAdapter"/>); what the controller only observes (Services' EndpointSlices, injected Pods) is not.
/// </summary>
internal interface IWatchableKind
{
    ResourceKind Kind { get; }

    /// <summary>A consistent list (no resourceVersion asked): the items and the list's resourceVersion to watch from.</summary>
    Task<ResourcePage> ListAsync(string? @namespace, CancellationToken cancellationToken);

    /// <summary>
    /// One watch request from <paramref name="resourceVersion"/> with bookmarks, ended by the server after
    /// <paramref name="timeoutSeconds"/>. Error events from the server end the sequence with an exception.
    /// </summary>
    IAsyncEnumerable<RawWatchEvent> WatchAsync(string? @namespace, string resourceVersion, int timeoutSeconds, CancellationToken cancellationToken);
}

/// <summary>One of our kinds on the Kubernetes API: where it lives and how it converts.</summary>
internal interface IKindAdapter : IWatchableKind
{
    Task<Resource?> GetAsync(string @namespace, string name, CancellationToken cancellationToken);

    Task<Resource> CreateAsync(Resource resource, CancellationToken cancellationToken);

    Task<Resource> ReplaceAsync(Resource resource, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(string @namespace, string name, string? resourceVersion, CancellationToken cancellationToken);
}

/// <summary>A list answer: items in namespace/name order and the resourceVersion of the list.</summary>
internal sealed record ResourcePage(IReadOnlyList<Resource> Items, string ResourceVersion);

/// <summary>A watch event as the server sent it; <see cref="Object"/> is null for bookmarks.</summary>
internal readonly record struct RawWatchEvent(k8s.WatchEventType Type, Resource? Object, string? ResourceVersion);
