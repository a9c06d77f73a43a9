using FedMesh.Core.Identity;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Targets;

namespace FedMesh.MirrorController.Hosting;

/// <summary>Everything a controller is built from, resolved already: the seams tests and Kubernetes mode fill differently.</summary>
internal sealed class ControllerSetup
{
    public required ControllerIdentity Identity { get; init; }
    public required IClusterStore Store { get; init; }
    public required ITargetStoreResolver Targets { get; init; }
    public required MirrorControllerOptions Options { get; init; }

    /// <summary>Where endpoints nobody writes to the store come from: injected pods on Kubernetes; none locally, where proxies register.</summary>
    public IWorkloadEndpointSource? Workloads { get; init; }

    /// <summary>Where both ports listen: 127.0.0.1 unless the controller runs in a pod.</summary>
    public System.Net.IPAddress ListenAddress { get; init; } = System.Net.IPAddress.Loopback;

    /// <summary>gRPC port on 127.0.0.1 (0: any free port).</summary>
    public int GrpcPort { get; init; }

    /// <summary>Admin port on 127.0.0.1 (0: any free port).</summary>
    public int AdminPort { get; init; }

    /// <summary>The cluster's issuer and how callers are authorized; without them the Identity service is not offered.</summary>
    public IssuerSetup? Issuer { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;
}

/// <summary>
/// The issuer that signs this cluster's leaves and what decides who gets which identity: the bootstrap token locally,
/// TokenReview of projected service-account tokens on Kubernetes.
/// </summary>
internal sealed record IssuerSetup(CertificateAuthority Issuer, ICertifyAuthorizer Authorizer);
