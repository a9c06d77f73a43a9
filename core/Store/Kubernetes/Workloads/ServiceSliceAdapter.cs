using FedMesh.Core.Resources;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes.Workloads;

/// <summary>
/// The EndpointSlices of Services that are not ours (ours hold mirrors and are the store's Endpoints), read only:
/// in practice those Kubernetes' endpointslice controller keeps for every Service with a selector.
/// </summary>
internal sealed class ServiceSliceAdapter(IKubernetes client, string cluster)
    : WatchableKindAdapter<V1EndpointSlice, V1EndpointSliceList>(cluster, WorkloadKinds.EndpointSlice)
{
    private const string Selector = EndpointSliceMapping.ManagedByLabel + "!=" + EndpointSliceMapping.ManagedByValue;

    protected override Task<HttpOperationResponse<V1EndpointSliceList>> ListCallAsync(string? ns, CancellationToken ct) =>
        EndpointSliceCalls.ListAsync(client, ns, Selector, ct);

    protected override IAsyncEnumerable<(k8s.WatchEventType Type, V1EndpointSlice Item)> WatchCallAsync(string? ns, string rv, int timeout, Action<Exception> onError, CancellationToken ct) =>
        EndpointSliceCalls.WatchAsync(client, ns, Selector, rv, timeout, onError, ct);

    /// <summary>A slice that names no Service cannot give any Service endpoints.</summary>
    protected override bool IsOurs(V1EndpointSlice item) =>
        !EndpointSliceMapping.IsOurs(item) && ServiceOf(item) is not null;

    protected override Resource ToResource(V1EndpointSlice item)
    {
        var members = new List<SliceMember>();
        foreach (var endpoint in item.Endpoints ?? [])
            if (endpoint.TargetRef is { Kind: "Pod", Name: { Length: > 0 } pod })
                members.Add(new SliceMember(pod, endpoint.Conditions?.Ready ?? true, endpoint.Zone));
        return new ServiceSlice
        {
            Metadata = new ObjectMeta { Name = item.Metadata?.Name ?? "", Namespace = item.Metadata?.NamespaceProperty, ResourceVersion = item.Metadata?.ResourceVersion },
            Service = ServiceOf(item) ?? "",
            Members = members,
        };
    }

    private static string? ServiceOf(V1EndpointSlice item) =>
        item.Metadata?.Labels is { } labels && labels.TryGetValue(EndpointSliceMapping.ServiceNameLabel, out var service) && service.Length > 0 ? service : null;
}
