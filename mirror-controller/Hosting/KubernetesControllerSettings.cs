using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Hosting;

/// <summary>
/// What a controller running in a Kubernetes pod reads from its environment (set by <c>fedmesh install</c>):
/// <c>FEDMESH_STORE=kubernetes</c>, <c>FEDMESH_NAMESPACE</c> (where Links and their credentials live),
/// <c>FEDMESH_TRUST_DOMAIN</c> and <c>FEDMESH_ISSUER_DIR</c> (the mounted issuer Secret: ca.crt, ca.key).
/// </summary>
internal sealed record KubernetesControllerSettings(string Namespace, string TrustDomain, string? IssuerDirectory)
{
    public const string StoreVariable = "FEDMESH_STORE";

    /// <summary>True when the environment asks for Kubernetes mode.</summary>
    public static bool Requested(Func<string, string?> environment) =>
        string.Equals(environment(StoreVariable), "kubernetes", StringComparison.OrdinalIgnoreCase);

    /// <summary>The settings, or every problem with them in one pass.</summary>
    public static (KubernetesControllerSettings? Settings, IReadOnlyList<string> Errors) Read(Func<string, string?> environment)
    {
        var errors = new List<string>();
        var ns = environment("FEDMESH_NAMESPACE") is { Length: > 0 } n ? n : WellKnown.SystemNamespace;
        if (ns != WellKnown.SystemNamespace)
            errors.Add($"FEDMESH_NAMESPACE is '{ns}', but Links and their credentials live in '{WellKnown.SystemNamespace}'; install with 'fedmesh install', which sets it");
        var trustDomain = environment("FEDMESH_TRUST_DOMAIN") is { Length: > 0 } t ? t : "fedmesh.local";
        var issuer = environment("FEDMESH_ISSUER_DIR") is { Length: > 0 } i ? i : null;
        if (issuer is not null && !Directory.Exists(issuer))
            errors.Add($"FEDMESH_ISSUER_DIR '{issuer}' does not exist; mount the issuer Secret there (see the controller Deployment of 'fedmesh install')");
        return errors.Count > 0 ? (null, errors) : (new KubernetesControllerSettings(ns, trustDomain, issuer), errors);
    }
}
