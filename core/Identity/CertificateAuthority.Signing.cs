using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

public sealed partial class CertificateAuthority
{
    /// <summary>
    /// Signs a PKCS#10 request for <paramref name="identity"/>. The request's signature must verify, its key must be
    /// ECDSA P-256 and its only URI SAN must equal the identity; throws <see cref="IdentityException"/> otherwise.
    /// The leaf is an end entity for serverAuth and clientAuth, backdated by <see cref="IdentityDefaults.ClockSkewAllowance"/>
    /// and never valid past this issuer.
    /// </summary>
    public X509Certificate2 SignLeaf(ReadOnlySpan<byte> csrDer, SpiffeId identity, TimeSpan lifetime)
    {
        ArgumentNullException.ThrowIfNull(identity);
        if (identity.Validate() is { } invalid)
        {
            throw new IdentityException($"cannot sign for '{identity}': {invalid}");
        }
        if (identity.TrustDomain != TrustDomain || (Cluster is not null && identity.Cluster != Cluster))
        {
            throw new IdentityException(
                $"'{identity}' is outside this issuer's scope {SpiffeId.ScopeUri(TrustDomain, Cluster)}");
        }
        var requested = identity.ToString();
        var csr = LoadRequest(csrDer, requested);
        if (!CertificateBuilder.IsP256(csr.PublicKey))
        {
            throw new IdentityException($"the CSR for '{requested}' must carry an ECDSA P-256 public key");
        }
        var uris = RequestedUris(csr, requested);
        if (uris.Count != 1 || !string.Equals(uris[0], requested, StringComparison.Ordinal))
        {
            throw new IdentityException(uris.Count switch
            {
                0 => $"the CSR carries no URI SAN; it must carry exactly one, '{requested}'",
                1 => $"the CSR names '{uris[0]}' but the requested identity is '{requested}'",
                _ => $"the CSR carries {uris.Count} URI SANs; it must carry exactly one, '{requested}'",
            });
        }

        var (notBefore, notAfter) = CertificateBuilder.Validity(_time.GetUtcNow(), lifetime, Certificate);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName(identity.Cluster);
        subject.AddOrganizationalUnitName(identity.Namespace);
        subject.AddCommonName(identity.ServiceAccount);
        var leaf = new CertificateRequest(subject.Build(), csr.PublicKey, CertificateBuilder.Hash);
        leaf.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        leaf.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        leaf.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [CertificateBuilder.ServerAuth, CertificateBuilder.ClientAuth], false));
        leaf.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(csr.PublicKey, false));
        leaf.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        leaf.CertificateExtensions.Add(SanUris.Create(requested));
        return leaf.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key),
            notBefore, notAfter, CertificateBuilder.NewSerial());
    }

    private static CertificateRequest LoadRequest(ReadOnlySpan<byte> csrDer, string requested)
    {
        if (csrDer.IsEmpty)
        {
            throw new IdentityException($"the CSR for '{requested}' is empty");
        }
        try
        {
            var csr = CertificateRequest.LoadSigningRequest(csrDer, CertificateBuilder.Hash, out var consumed,
                CertificateRequestLoadOptions.UnsafeLoadCertificateExtensions);
            if (consumed != csrDer.Length)
            {
                throw new IdentityException($"the CSR for '{requested}' has {csrDer.Length - consumed} trailing bytes");
            }
            return csr;
        }
        catch (CryptographicException e)
        {
            throw new IdentityException(
                $"the CSR for '{requested}' is not a valid PKCS#10 request or its signature does not verify: {e.Message}", e);
        }
    }

    private static List<string> RequestedUris(CertificateRequest csr, string requested)
    {
        foreach (var extension in csr.CertificateExtensions)
        {
            if (extension.Oid?.Value == SanUris.ExtensionOid)
            {
                try
                {
                    return SanUris.Read(extension);
                }
                catch (CryptographicException e)
                {
                    throw new IdentityException($"the CSR for '{requested}': {e.Message}", e);
                }
            }
        }
        return [];
    }
}
