using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// List and watch of EndpointSlices by label selector, in one namespace or all: our slices (<see cref="EndpointSliceAdapter"/>)
/// and the ones Kubernetes keeps for Services (<see cref="Workloads.ServiceSliceAdapter"/>) differ only in the selector.
/// </summary>
internal static class EndpointSliceCalls
{
    public static Task<HttpOperationResponse<V1EndpointSliceList>> ListAsync(IKubernetes client, string? ns, string selector, CancellationToken ct) =>
        ns is null
            ? client.DiscoveryV1.ListEndpointSliceForAllNamespacesWithHttpMessagesAsync(labelSelector: selector, cancellationToken: ct)
            : client.DiscoveryV1.ListNamespacedEndpointSliceWithHttpMessagesAsync(ns, labelSelector: selector, cancellationToken: ct);

    public static IAsyncEnumerable<(k8s.WatchEventType Type, V1EndpointSlice Item)> WatchAsync(IKubernetes client, string? ns, string selector, string rv, int timeout,
        Action<Exception> onError, CancellationToken ct) =>
        ns is null
            ? client.DiscoveryV1.WatchListEndpointSliceForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : client.DiscoveryV1.WatchListNamespacedEndpointSliceAsync(ns, allowWatchBookmarks: true, labelSelector: selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct);
}
