using FedMesh.Core.Resources;

namespace FedMesh.Core.Store;

/// <summary>
/// Endpoints that the platform knows and nobody writes to the cluster store: on Kubernetes, the injected pods behind
/// each Service's EndpointSlices (<see cref="Kubernetes.Workloads.KubernetesWorkloadEndpoints"/>). Read only; one
/// <see cref="Endpoints"/> object per Service that has any, named after the Service.
/// </summary>
public interface IWorkloadEndpointSource
{
    /// <summary>What is watched, for logs ("endpoints of injected pods in cluster 'east'").</summary>
    string Description { get; }

    /// <summary>
    /// The contract of <see cref="IClusterStore.WatchAsync{T}"/>: <see cref="WatchEventType.Added"/> for every current
    /// object, <see cref="WatchEventType.Synced"/>, then every change until cancelled. A failure ends the sequence with
    /// its exception (<see cref="StoreForbiddenException"/> when the credentials may not read what is needed).
    /// </summary>
    IAsyncEnumerable<WatchEvent<Endpoints>> WatchAsync(CancellationToken cancellationToken);
}
