using System.Globalization;
using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// Our Service is Kubernetes' own Service (v1): name, labels, annotations, ports and selector map
/// one to one. An update keeps what our model does not carry (type, clusterIP, nodePorts, ...).
/// </summary>
internal sealed class ServiceAdapter(IKubernetes client, string cluster)
    : KindAdapter<V1Service, V1ServiceList>(cluster, ResourceKinds.Service)
{
    protected override Task<HttpOperationResponse<V1ServiceList>> ListCallAsync(string? ns, CancellationToken ct) =>
        ns is null
            ? client.CoreV1.ListServiceForAllNamespacesWithHttpMessagesAsync(cancellationToken: ct)
            : client.CoreV1.ListNamespacedServiceWithHttpMessagesAsync(ns, cancellationToken: ct);

    protected override IAsyncEnumerable<(k8s.WatchEventType Type, V1Service Item)> WatchCallAsync(string? ns, string rv, int timeout, Action<Exception> onError, CancellationToken ct) =>
        ns is null
            ? client.CoreV1.WatchListServiceForAllNamespacesAsync(allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct)
            : client.CoreV1.WatchListNamespacedServiceAsync(ns, allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: timeout, onError: onError, cancellationToken: ct);

    protected override Task<V1Service> ReadCallAsync(string ns, string name, CancellationToken ct) => client.CoreV1.ReadNamespacedServiceAsync(name, ns, cancellationToken: ct);

    protected override Task<V1Service> CreateCallAsync(V1Service body, string ns, CancellationToken ct) => client.CoreV1.CreateNamespacedServiceAsync(body, ns, cancellationToken: ct);

    protected override Task<V1Service> ReplaceCallAsync(V1Service body, string ns, string name, CancellationToken ct) => client.CoreV1.ReplaceNamespacedServiceAsync(body, name, ns, cancellationToken: ct);

    protected override Task DeleteCallAsync(string ns, string name, V1DeleteOptions options, CancellationToken ct) => client.CoreV1.DeleteNamespacedServiceAsync(name, ns, options, cancellationToken: ct);

    protected override async Task<V1Service> PrepareReplaceAsync(V1Service desired, CancellationToken ct)
    {
        // Start from the stored object so fields we do not model survive; the resourceVersion we
        // carry is still the one the caller read, so the server's compare-and-swap decides.
        var stored = await client.CoreV1.ReadNamespacedServiceAsync(desired.Metadata.Name, desired.Metadata.NamespaceProperty, cancellationToken: ct).ConfigureAwait(false);
        stored.Metadata.Labels = desired.Metadata.Labels;
        stored.Metadata.Annotations = desired.Metadata.Annotations;
        stored.Metadata.ResourceVersion = desired.Metadata.ResourceVersion;
        stored.Spec ??= new V1ServiceSpec();
        stored.Spec.Ports = desired.Spec.Ports;
        stored.Spec.Selector = desired.Spec.Selector;
        return stored;
    }

    protected override Resource ToResource(V1Service item) => new Service
    {
        Metadata = MetadataMapping.FromKubernetes(item.Metadata),
        Spec = new ServiceSpec
        {
            Ports = item.Spec?.Ports?.Select(p => new ServicePort
            {
                Name = p.Name,
                Port = p.Port,
                TargetPort = p.TargetPort?.Value is { } t && int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null,
                Protocol = p.Protocol,
            }).ToList() ?? [],
            Selector = item.Spec?.Selector is { Count: > 0 } s ? new Dictionary<string, string>(s, StringComparer.Ordinal) : null,
        },
    };

    protected override V1Service FromResource(Resource resource)
    {
        var service = (Service)resource;
        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = MetadataMapping.ToKubernetes(service),
            Spec = new V1ServiceSpec
            {
                Ports = service.Spec.Ports.Select(p => new V1ServicePort
                {
                    Name = p.Name,
                    Port = p.Port,
                    TargetPort = p.TargetPort is { } t ? (IntOrString)t : null,
                    Protocol = p.Protocol,
                }).ToList(),
                Selector = service.Spec.Selector,
            },
        };
    }
}
