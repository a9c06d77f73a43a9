using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.Core.Identity;

/// <summary>
/// This process's own identity: a private key generated here, a leaf signed by the cluster's
/// controller from a CSR, renewed at 70 % of its life. Gives the TLS options for both sides.
/// </summary>
public sealed partial class WorkloadIdentity : IDisposable
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly IdentityCertifier? _certifier;
    private readonly CancellationTokenSource _stop = new();
    private IdentityMaterial _material;
    private int _disposed;

    private WorkloadIdentity(SpiffeId id, IdentityMaterial material, IdentityCertifier? certifier, TimeProvider time, ILogger logger)
    {
        Id = id;
        _material = material;
        _certifier = certifier;
        _time = time;
        _logger = logger;
    }

    /// <summary>The identity this process holds.</summary>
    public SpiffeId Id { get; }

    /// <summary>The current leaf with its private key; swapped atomically on renewal.</summary>
    public X509Certificate2 Certificate => Volatile.Read(ref _material).Leaf;

    /// <summary>The intermediates presented with <see cref="Certificate"/>, the leaf's issuer first.</summary>
    public X509Certificate2Collection Chain => Volatile.Read(ref _material).Intermediates;

    /// <summary>The trust anchors peers must chain to.</summary>
    public IReadOnlyList<X509Certificate2> Anchors => Volatile.Read(ref _material).Anchors;

    /// <summary>
    /// Issuers learned from peers' validated chains, which chain a peer that shows only its leaf (a resumed TLS
    /// session); kept across renewals. Pass it to <see cref="PeerCertificateValidator"/> from a TLS callback.
    /// </summary>
    public PeerIntermediates LearnedIntermediates { get; } = new();

    /// <summary>When the current leaf expires.</summary>
    public DateTimeOffset NotAfter => Volatile.Read(ref _material).NotAfter;

    /// <summary>When the current leaf will be renewed.</summary>
    public DateTimeOffset RenewAt => Volatile.Read(ref _material).RenewAt;

    /// <summary>
    /// Raised after a renewed certificate has been swapped in. TLS options already handed out keep the old
    /// certificate; holders of long-lived clients rebuild them here.
    /// </summary>
    public event Action<WorkloadIdentity>? Renewed;

    /// <summary>For tests and embedded use: a leaf signed directly by <paramref name="issuer"/> (not renewed).</summary>
    public static WorkloadIdentity FromIssuer(CertificateAuthority issuer, SpiffeId id, TimeSpan lifetime) =>
        FromIssuer(issuer, id, lifetime, TimeProvider.System);

    /// <summary>For tests and embedded use: a leaf signed directly by <paramref name="issuer"/>, checked at <paramref name="time"/>.</summary>
    public static WorkloadIdentity FromIssuer(CertificateAuthority issuer, SpiffeId id, TimeSpan lifetime, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        var key = CertificateBuilder.NewKey(); // owned by the leaf from here on
        using var leaf = issuer.SignLeaf(IdentityCertifier.CreateSigningRequest(key, id), id, lifetime);
        var material = IdentityMaterial.Create(leaf, key, id, [.. issuer.LeafIssuerChain()], [issuer.Root], time);
        return new WorkloadIdentity(id, material, null, time, NullLogger.Instance);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        // The token source is cancelled, not disposed: the renewal loop may still be observing it.
        _stop.Cancel();
        _certifier?.Dispose();
    }
}
