using FedMesh.Core.Resources;

namespace FedMesh.Core.Store.Kubernetes.Workloads;

/// <summary>The Kubernetes kinds workload discovery watches; not store kinds, so not in <see cref="ResourceKinds"/>.</summary>
internal static class WorkloadKinds
{
    public static readonly ResourceKind Pod = new("Pod", "v1", "pods", [], typeof(InjectedPod), ObjectMeta.DefaultNamespace);
    public static readonly ResourceKind EndpointSlice = new("EndpointSlice", "discovery.k8s.io/v1", "endpointslices", [], typeof(ServiceSlice), ObjectMeta.DefaultNamespace);
}

/// <summary>An injected Pod, reduced to what its endpoint needs: the address its sidecar listens on and its identity.</summary>
internal sealed class InjectedPod : Resource
{
    public InjectedPod()
    {
        ApiVersion = "v1";
        Kind = "Pod";
    }

    /// <summary><c>status.podIP</c>; null until the pod has been given an address.</summary>
    public string? PodIp { get; init; }

    /// <summary><c>spec.serviceAccountName</c>, <c>default</c> when the pod names none (as the API server fills it in).</summary>
    public string ServiceAccount { get; init; } = "default";
}

/// <summary>One EndpointSlice of a Service, written by Kubernetes' endpointslice controller: which pods back the Service.</summary>
internal sealed class ServiceSlice : Resource
{
    public ServiceSlice()
    {
        ApiVersion = "discovery.k8s.io/v1";
        Kind = "EndpointSlice";
    }

    /// <summary>The Service it belongs to (label <c>kubernetes.io/service-name</c>).</summary>
    public string Service { get; init; } = "";

    /// <summary>The slice's endpoints that name a Pod (<c>targetRef</c>); others cannot be matched to a sidecar.</summary>
    public IReadOnlyList<SliceMember> Members { get; init; } = [];
}

/// <summary>A slice endpoint: its Pod, <c>conditions.ready</c> (unset counts as ready, as the API documents) and its zone.</summary>
internal sealed record SliceMember(string Pod, bool Ready, string? Zone);
