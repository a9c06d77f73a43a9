// CONTRACT SKETCH — the core helper replaces these bodies with the real implementation and may split
// the types into their own files. Names and signatures are what gateway, proxy and controller use.
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>spiffe://&lt;trust-domain&gt;/cluster/&lt;c&gt;/ns/&lt;ns&gt;/sa/&lt;sa&gt;</summary>
public sealed partial record SpiffeId(string TrustDomain, string Cluster, string Namespace, string ServiceAccount)
{
    public static SpiffeId Parse(string uri) => throw new NotImplementedException();
    public static bool TryParse(string? uri, out SpiffeId? id, out string? error) => throw new NotImplementedException();
    /// <summary>The SPIFFE id in the certificate's URI SAN; null with an error if none or malformed.</summary>
    public static SpiffeId? FromCertificate(X509Certificate2 certificate, out string? error) => throw new NotImplementedException();
    public override string ToString() => $"spiffe://{TrustDomain}/cluster/{Cluster}/ns/{Namespace}/sa/{ServiceAccount}";
}

/// <summary>A certificate authority: the federation's trust anchor (root) or a cluster's issuer (intermediate).</summary>
public sealed partial class CertificateAuthority : IDisposable
{
    public X509Certificate2 Certificate => throw new NotImplementedException();
    /// <summary>Certificates between this CA and the root (empty for the root), nearest first.</summary>
    public IReadOnlyList<X509Certificate2> IssuerChain => throw new NotImplementedException();
    public X509Certificate2 Root => throw new NotImplementedException();
    public static CertificateAuthority CreateRoot(string trustDomain, TimeProvider time, TimeSpan? lifetime = null) => throw new NotImplementedException();
    public CertificateAuthority CreateIntermediate(string cluster, TimeSpan? lifetime = null) => throw new NotImplementedException();
    /// <summary>Writes ca.crt (chain PEM) and ca.key (PEM, mode 0600) atomically.</summary>
    public void Save(string directory) => throw new NotImplementedException();
    public static CertificateAuthority Load(string directory, TimeProvider time) => throw new NotImplementedException();
    /// <summary>Signs a PKCS#10 request whose URI SAN must equal <paramref name="identity"/>; throws <see cref="IdentityException"/> otherwise.</summary>
    public X509Certificate2 SignLeaf(ReadOnlySpan<byte> csrDer, SpiffeId identity, TimeSpan lifetime) => throw new NotImplementedException();
    public void Dispose() => throw new NotImplementedException();
}

public sealed class IdentityException(string message) : Exception(message);

/// <summary>Checks a peer's certificate: chain ends at a trusted anchor, SAN is a well-formed SPIFFE id.</summary>
public static partial class PeerCertificateValidator
{
    public static SpiffeId? Validate(X509Certificate2? leaf, X509Chain? presentedChain, IReadOnlyList<X509Certificate2> anchors, out string? error) => throw new NotImplementedException();
}

/// <summary>
/// This process's own identity: a private key generated here, a leaf signed by the cluster's
/// controller from a CSR, renewed at 70 % of its life. Gives the TLS options for both sides.
/// </summary>
public sealed partial class WorkloadIdentity : IDisposable
{
    public SpiffeId Id => throw new NotImplementedException();
    /// <summary>The current leaf with its private key; swapped atomically on renewal.</summary>
    public X509Certificate2 Certificate => throw new NotImplementedException();
    public IReadOnlyList<X509Certificate2> Anchors => throw new NotImplementedException();
    /// <summary>Obtains a first certificate from the controller at <paramref name="controllerAddress"/> and keeps it renewed until disposed.</summary>
    public static Task<WorkloadIdentity> ObtainAsync(string controllerAddress, SpiffeId id, string token, TimeProvider time, CancellationToken cancellationToken) => throw new NotImplementedException();
    /// <summary>For tests and embedded use: a leaf signed directly by <paramref name="issuer"/>.</summary>
    public static WorkloadIdentity FromIssuer(CertificateAuthority issuer, SpiffeId id, TimeSpan lifetime) => throw new NotImplementedException();
    /// <summary>Server side: presents our leaf (with chain), requires a client certificate; validation is done by the caller through <see cref="PeerCertificateValidator"/>.</summary>
    public SslServerAuthenticationOptions ServerOptions() => throw new NotImplementedException();
    /// <summary>Client side: presents our leaf, accepts the server only if it chains to an anchor and its SPIFFE id equals <paramref name="expectedServer"/> (any id of the trust domain when null).</summary>
    public SslClientAuthenticationOptions ClientOptions(string? expectedServer) => throw new NotImplementedException();
    public void Dispose() => throw new NotImplementedException();
}
