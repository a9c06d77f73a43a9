namespace FedMesh.Core.Identity;

/// <summary>
/// Decides whether the caller of <see cref="IdentityService"/> may hold the identity it asks for, from the credential it
/// presents. Locally the credential is the cluster's bootstrap token (<see cref="CertifyAuthorizers.BootstrapToken"/>);
/// on Kubernetes it is the pod's projected service-account token, checked with the TokenReview API.
/// </summary>
public interface ICertifyAuthorizer
{
    /// <summary>
    /// Decides on one Certify call. <paramref name="identity"/> is the SPIFFE id exactly as requested (not yet parsed);
    /// the service still checks its form, trust domain and cluster after an <see cref="CertifyDecision.Allow"/>.
    /// </summary>
    ValueTask<CertifyDecision> AuthorizeAsync(string token, string identity, CancellationToken cancellationToken);
}

/// <summary>How a Certify call was decided; anything but <see cref="Allowed"/> is refused with the matching gRPC status.</summary>
public enum CertifyOutcome
{
    /// <summary>The caller may hold the identity.</summary>
    Allowed,

    /// <summary>The credential was not accepted at all (gRPC <c>Unauthenticated</c>).</summary>
    Unauthenticated,

    /// <summary>The credential is good but does not entitle its holder to the identity (gRPC <c>PermissionDenied</c>).</summary>
    PermissionDenied,

    /// <summary>The credential could not be checked now (gRPC <c>Unavailable</c>, which callers retry).</summary>
    Unavailable,
}

/// <summary>The decision on one Certify call, with the reason a refused caller is told.</summary>
public sealed record CertifyDecision(CertifyOutcome Outcome, string Reason)
{
    /// <summary>The caller may hold the identity.</summary>
    public static CertifyDecision Allow { get; } = new(CertifyOutcome.Allowed, "");

    public static CertifyDecision Unauthenticated(string reason) => new(CertifyOutcome.Unauthenticated, reason);

    public static CertifyDecision Denied(string reason) => new(CertifyOutcome.PermissionDenied, reason);

    public static CertifyDecision Unavailable(string reason) => new(CertifyOutcome.Unavailable, reason);
}
