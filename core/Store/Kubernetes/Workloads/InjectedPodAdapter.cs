using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes.Workloads;

/// <summary>
/// Pods labelled <see cref="SidecarInjector.InjectedLabel"/>, read only: the server filters by the label, so other pods
/// are neither sent nor held.
/// </summary>
internal sealed class InjectedPodAdapter(IKubernetes client, string cluster)
    : WatchableKindAdapter<V1Pod, V1PodList>(cluster, WorkloadKinds.Pod)
{
    private const string Selector = SidecarInjector.InjectedLabel + "=true";

    protected override Task<HttpOperationResponse<V1PodList>> ListCallAsync(string? ns, CancellationToken ct) =>
        ns is null
            ? client.CoreV1.ListPodForAllNamespacesWithHttpMessagesAsync(labelSelector: Selector, cancellationToken: ct)
            : client.CoreV1.ListNamespacedPodWithHttpMessagesAsync(ns, labelSelector: Selector, cancellationToken: ct);

    protected override IAsyncEnumerable<(k8s.WatchEventType Type, V1Pod Item)> WatchCallAsync(string? ns, string rv, int timeout, Action<Exception> onError, CancellationToken ct) =>
        ns is null
            ? client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true, labelSelector: Selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : client.CoreV1.WatchListNamespacedPodAsync(ns, allowWatchBookmarks: true, labelSelector: Selector, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct);

    protected override Resource ToResource(V1Pod item) => new InjectedPod
    {
        Metadata = new ObjectMeta { Name = item.Metadata?.Name ?? "", Namespace = item.Metadata?.NamespaceProperty, ResourceVersion = item.Metadata?.ResourceVersion },
        PodIp = string.IsNullOrEmpty(item.Status?.PodIP) ? null : item.Status.PodIP,
        ServiceAccount = string.IsNullOrEmpty(item.Spec?.ServiceAccountName) ? "default" : item.Spec.ServiceAccountName,
    };
}
