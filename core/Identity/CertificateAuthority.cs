using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>
/// A certificate authority: the federation's trust anchor (root) or a cluster's issuer (intermediate).
/// Every key is ECDSA P-256. An issuer carries the URI <c>spiffe://&lt;td&gt;/cluster/&lt;c&gt;</c>, and
/// <see cref="PeerCertificateValidator"/> refuses leaves outside that scope.
/// </summary>
public sealed partial class CertificateAuthority : IDisposable
{
    private readonly ECDsa _key;
    private readonly TimeProvider _time;
    private readonly X509Certificate2[] _issuerChain;

    private CertificateAuthority(X509Certificate2 certificate, ECDsa key, X509Certificate2[] issuerChain,
        TimeProvider time, string trustDomain, string? cluster)
    {
        Certificate = certificate;
        _key = key;
        _issuerChain = issuerChain;
        _time = time;
        TrustDomain = trustDomain;
        Cluster = cluster;
    }

    /// <summary>This CA's certificate (public part only; the key stays inside this object).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Certificates above this CA up to and including the root, nearest first (empty for the root).</summary>
    public IReadOnlyList<X509Certificate2> IssuerChain => _issuerChain;

    /// <summary>The trust anchor this CA chains to (itself for the root).</summary>
    public X509Certificate2 Root => _issuerChain.Length == 0 ? Certificate : _issuerChain[^1];

    /// <summary>The trust domain this CA belongs to.</summary>
    public string TrustDomain { get; }

    /// <summary>The cluster this issuer signs for; null for the trust anchor.</summary>
    public string? Cluster { get; }

    /// <summary>True for the trust anchor (self-signed root).</summary>
    public bool IsRoot => _issuerChain.Length == 0;

    /// <summary>Creates a new trust anchor for <paramref name="trustDomain"/> (default lifetime 10 years).</summary>
    public static CertificateAuthority CreateRoot(string trustDomain, TimeProvider time, TimeSpan? lifetime = null)
    {
        ArgumentNullException.ThrowIfNull(time);
        if (!DnsNames.IsName(trustDomain))
        {
            throw new IdentityException($"trust domain '{trustDomain}' must be a DNS name (dot-separated labels of {DnsNames.LabelRule})");
        }
        var (notBefore, notAfter) = CertificateBuilder.Validity(time.GetUtcNow(), lifetime ?? IdentityDefaults.RootLifetime, null);
        var key = CertificateBuilder.NewKey();
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName(trustDomain);
        subject.AddCommonName("FedMesh trust anchor");
        var request = new CertificateRequest(subject.Build(), key, CertificateBuilder.Hash);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(SanUris.Create(SpiffeId.ScopeUri(trustDomain, null)));
        var certificate = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key),
            notBefore, notAfter, CertificateBuilder.NewSerial());
        return new CertificateAuthority(certificate, key, [], time, trustDomain, null);
    }

    /// <summary>
    /// Creates the issuer of <paramref name="cluster"/> under this trust anchor: a CA with path length 0,
    /// scoped to <c>spiffe://&lt;td&gt;/cluster/&lt;cluster&gt;</c> (default lifetime 1 year, never past the root's).
    /// </summary>
    public CertificateAuthority CreateIntermediate(string cluster, TimeSpan? lifetime = null)
    {
        if (!IsRoot)
        {
            throw new IdentityException($"only the trust anchor can create a cluster issuer; '{Certificate.Subject}' is itself an issuer");
        }
        if (!DnsNames.IsLabel(cluster))
        {
            throw new IdentityException($"cluster '{cluster}' must be a DNS label ({DnsNames.LabelRule})");
        }
        var (notBefore, notAfter) = CertificateBuilder.Validity(
            _time.GetUtcNow(), lifetime ?? IdentityDefaults.IntermediateLifetime, Certificate);
        var key = CertificateBuilder.NewKey();
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName(TrustDomain);
        subject.AddOrganizationalUnitName(cluster);
        subject.AddCommonName($"FedMesh issuer {cluster}");
        var request = new CertificateRequest(subject.Build(), key, CertificateBuilder.Hash);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, true, false));
        request.CertificateExtensions.Add(SanUris.Create(SpiffeId.ScopeUri(TrustDomain, cluster)));
        var certificate = request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(_key),
            notBefore, notAfter, CertificateBuilder.NewSerial());
        return new CertificateAuthority(certificate, key, [Certificate], _time, TrustDomain, cluster);
    }

    /// <summary>The intermediates a leaf signed here must present: this CA and those above it, without the root.</summary>
    public IReadOnlyList<X509Certificate2> LeafIssuerChain()
    {
        if (IsRoot)
        {
            return [];
        }
        var chain = new List<X509Certificate2>(_issuerChain.Length) { Certificate };
        for (var i = 0; i < _issuerChain.Length - 1; i++)
        {
            chain.Add(_issuerChain[i]);
        }
        return chain;
    }

    public void Dispose() => _key.Dispose();
}
