namespace FedMesh.Core.Kubernetes;

/// <summary>What <see cref="SidecarInjector"/> needs to know about the cluster the workloads run in.</summary>
public sealed class InjectOptions
{
    /// <summary>The cluster's name in the federation (<c>--Cluster</c> of every sidecar).</summary>
    public required string Cluster { get; init; }

    /// <summary>The federation's SPIFFE trust domain; the controller signs only identities in it.</summary>
    public string TrustDomain { get; init; } = "fedmesh.local";

    /// <summary>Repository and tag of the proxy image (also used by the init container, which needs its iptables).</summary>
    public string ImageRepository { get; init; } = InstallDefaults.ImageRepository;

    /// <inheritdoc cref="ImageRepository"/>
    public string ImageTag { get; init; } = InstallDefaults.ImageTag;
}
