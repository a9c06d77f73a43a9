using FedMesh.Core.Federation;
using FedMesh.Core.Identity;

namespace FedMesh.Linker.Kubernetes;

/// <summary>A cluster's issuer (intermediate CA) and the federation's trust anchor, as PEM for the issuer Secret.</summary>
internal sealed record IssuerPem(string CertificatePem, string KeyPem, string AnchorPem);

/// <summary>
/// The federation's trust anchor and each cluster's issuer, kept under the federation home as the local
/// federation keeps them: created once, reused by every later install, so re-installing never rotates them.
/// </summary>
internal static class ClusterIssuers
{
    public static CertificateAuthority LoadOrCreateAnchor(FederationPaths paths, string trustDomain, TimeProvider time)
    {
        if (File.Exists(Path.Combine(paths.AnchorDirectory, CertificateAuthority.CertificateFileName)))
            return Load(paths.AnchorDirectory, time);
        var anchor = CertificateAuthority.CreateRoot(trustDomain, time);
        anchor.Save(paths.AnchorDirectory);
        return anchor;
    }

    /// <summary>The issuer of <paramref name="cluster"/>, signed by the federation's trust anchor (both created when missing).</summary>
    public static IssuerPem LoadOrCreate(FederationPaths paths, FederationConfig config, string cluster, TimeProvider time)
    {
        var directory = paths.IssuerDirectory(cluster);
        using (var anchor = LoadOrCreateAnchor(paths, config.TrustDomain, time))
        {
            if (File.Exists(Path.Combine(directory, CertificateAuthority.CertificateFileName)))
                Load(directory, time).Dispose();
            else
                using (var issuer = anchor.CreateIntermediate(cluster))
                    issuer.Save(directory);
        }
        return new IssuerPem(
            File.ReadAllText(Path.Combine(directory, CertificateAuthority.CertificateFileName)),
            File.ReadAllText(Path.Combine(directory, CertificateAuthority.KeyFileName)),
            File.ReadAllText(Path.Combine(paths.AnchorDirectory, CertificateAuthority.CertificateFileName)));
    }

    private static CertificateAuthority Load(string directory, TimeProvider time)
    {
        try
        {
            return CertificateAuthority.Load(directory, time);
        }
        catch (IdentityException e)
        {
            throw new CliException($"{e.Message}; restore it from a backup, or remove {directory} to create a new one (clusters using the old one must then be installed again)");
        }
    }
}
