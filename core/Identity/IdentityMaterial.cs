using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>One issued identity: leaf with its private key, intermediates, trust anchors. Immutable; swapped whole on renewal.</summary>
internal sealed class IdentityMaterial
{
    private IdentityMaterial(X509Certificate2 leaf, X509Certificate2Collection intermediates,
        IReadOnlyList<X509Certificate2> anchors, DateTimeOffset renewAt)
    {
        Leaf = leaf;
        Intermediates = intermediates;
        Anchors = anchors;
        NotAfter = CertificateBuilder.NotAfter(leaf);
        RenewAt = renewAt;
        // Built once per issuance so every TLS handshake reuses the same chain.
        Context = SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    public X509Certificate2 Leaf { get; }
    public X509Certificate2Collection Intermediates { get; }
    public IReadOnlyList<X509Certificate2> Anchors { get; }
    public DateTimeOffset NotAfter { get; }
    public DateTimeOffset RenewAt { get; }
    public SslStreamCertificateContext Context { get; }

    /// <summary>
    /// Checks an issued leaf against the key we hold, the identity we asked for and the anchors, then binds the key.
    /// Renewal is due after <see cref="IdentityDefaults.RenewalFraction"/> of the remaining lifetime, measured from
    /// <paramref name="time"/>'s now (not from the backdated notBefore, which would make short-lived leaves renew at once).
    /// </summary>
    public static IdentityMaterial Create(X509Certificate2 leafPublic, ECDsa key, SpiffeId expected,
        X509Certificate2Collection intermediates, IReadOnlyList<X509Certificate2> anchors, TimeProvider time)
    {
        if (!CertificateBuilder.SamePublicKey(leafPublic, key))
        {
            throw new IdentityException($"the certificate issued for '{expected}' does not carry the key this process generated");
        }
        var id = PeerCertificateValidator.Validate(leafPublic, intermediates, anchors, time, out var error);
        if (id is null)
        {
            throw new IdentityException($"the certificate issued for '{expected}' is not usable: {error}");
        }
        if (id != expected)
        {
            throw new IdentityException($"asked for '{expected}' but the issuer certified '{id}'");
        }
        var leaf = BindKey(leafPublic, key);
        var now = time.GetUtcNow();
        var notAfter = CertificateBuilder.NotAfter(leaf);
        var renewAt = now + (notAfter - now) * IdentityDefaults.RenewalFraction;
        return new IdentityMaterial(leaf, intermediates, anchors, renewAt);
    }

    private static X509Certificate2 BindKey(X509Certificate2 leafPublic, ECDsa key)
    {
        var leaf = leafPublic.CopyWithPrivateKey(key);
        if (!OperatingSystem.IsWindows())
        {
            return leaf;
        }
        // SChannel cannot use ephemeral keys; round-trip through PKCS#12 to get a persisted-in-memory key.
        using (leaf)
        {
            return X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
        }
    }
}
