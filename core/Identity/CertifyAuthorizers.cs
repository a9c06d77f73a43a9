namespace FedMesh.Core.Identity;

/// <summary>The built-in <see cref="ICertifyAuthorizer"/>s of core (the TokenReview one lives with the Kubernetes controller).</summary>
public static class CertifyAuthorizers
{
    /// <summary>Local federation: every caller presenting the cluster's bootstrap token may hold any identity of the cluster.</summary>
    public static ICertifyAuthorizer BootstrapToken(string cluster, string token) => new BootstrapTokenAuthorizer(cluster, token);
}
