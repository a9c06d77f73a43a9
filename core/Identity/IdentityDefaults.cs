namespace FedMesh.Core.Identity;

/// <summary>Lifetimes and timings of FedMesh certificates, shared by issuers and workloads.</summary>
public static class IdentityDefaults
{
    /// <summary>Lifetime of a federation trust anchor (root): 10 years.</summary>
    public static readonly TimeSpan RootLifetime = TimeSpan.FromDays(3650);

    /// <summary>Lifetime of a cluster issuer (intermediate): 1 year.</summary>
    public static readonly TimeSpan IntermediateLifetime = TimeSpan.FromDays(365);

    /// <summary>Lifetime of a workload leaf certificate: 24 hours.</summary>
    public static readonly TimeSpan LeafLifetime = TimeSpan.FromHours(24);

    /// <summary>How far certificates are backdated to tolerate clock skew between hosts.</summary>
    public static readonly TimeSpan ClockSkewAllowance = TimeSpan.FromMinutes(1);

    /// <summary>Fraction of its remaining lifetime after which a workload renews its leaf.</summary>
    public const double RenewalFraction = 0.7;

    /// <summary>Namespace of the federation's own components (gateway, controller).</summary>
    public const string SystemNamespace = "fedmesh-system";
}
