using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>Our Endpoints as EndpointSlices managed by fedmesh.io; see <see cref="EndpointSliceMapping"/>.</summary>
internal sealed class EndpointSliceAdapter(IKubernetes client, string cluster)
    : KindAdapter<V1EndpointSlice, V1EndpointSliceList>(cluster, ResourceKinds.Endpoints)
{
    private const string Selector = EndpointSliceMapping.ManagedByLabel + "=" + EndpointSliceMapping.ManagedByValue;

    protected override Task<HttpOperationResponse<V1EndpointSliceList>> ListCallAsync(string? ns, CancellationToken ct) =>
        EndpointSliceCalls.ListAsync(client, ns, Selector, ct);

    protected override IAsyncEnumerable<(k8s.WatchEventType Type, V1EndpointSlice Item)> WatchCallAsync(string? ns, string rv, int timeout, Action<Exception> onError, CancellationToken ct) =>
        EndpointSliceCalls.WatchAsync(client, ns, Selector, rv, timeout, onError, ct);

    protected override Task<V1EndpointSlice> ReadCallAsync(string ns, string name, CancellationToken ct) => client.DiscoveryV1.ReadNamespacedEndpointSliceAsync(name, ns, cancellationToken: ct);

    protected override Task<V1EndpointSlice> CreateCallAsync(V1EndpointSlice body, string ns, CancellationToken ct) => client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(body, ns, cancellationToken: ct);

    protected override Task<V1EndpointSlice> ReplaceCallAsync(V1EndpointSlice body, string ns, string name, CancellationToken ct) => client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(body, name, ns, cancellationToken: ct);

    protected override Task DeleteCallAsync(string ns, string name, V1DeleteOptions options, CancellationToken ct) => client.DiscoveryV1.DeleteNamespacedEndpointSliceAsync(name, ns, options, cancellationToken: ct);

    protected override bool IsOurs(V1EndpointSlice item) => EndpointSliceMapping.IsOurs(item);

    protected override Resource ToResource(V1EndpointSlice item) => EndpointSliceMapping.FromSlice(item);

    protected override V1EndpointSlice FromResource(Resource resource) => EndpointSliceMapping.ToSlice((Endpoints)resource);
}
