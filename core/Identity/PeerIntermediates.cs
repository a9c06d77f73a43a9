using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>
/// Issuer certificates learned from peers' chains that validated, so a peer that presents only its leaf can still
/// be chained. A resumed TLS session is that case: the server sees only the client's leaf (the ticket carries no
/// intermediates). An entry is a hint, never trust: the chain is still built to the current anchors, at the current
/// time, with every scope check, so an issuer that expired or no longer chains to an anchor refuses as before.
/// </summary>
/// <remarks>
/// Keyed by the certificate a CA issued: its authority key identifier (the issuer's key), or its issuer name when it
/// has none. A federation has one issuer per cluster, so the cache holds a handful of entries; the bound only stops
/// a misbehaving peer set from growing it. Reads take no lock.
/// </remarks>
public sealed class PeerIntermediates
{
    /// <summary>How many issuers are remembered unless told otherwise: far more than a federation has clusters.</summary>
    public const int DefaultCapacity = 256;

    // A chain longer than this is not one FedMesh builds (root, cluster issuer, leaf); stop walking there.
    private const int MaxDepth = 4;

    private readonly ConcurrentDictionary<string, X509Certificate2> _issuers = new(StringComparer.Ordinal);
    private readonly int _capacity;

    /// <param name="capacity">The most issuers remembered; at the bound an arbitrary one is forgotten.</param>
    public PeerIntermediates(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>Issuers remembered.</summary>
    public int Count => _issuers.Count;

    /// <summary>Adds the remembered issuers of <paramref name="leaf"/>, and theirs, to <paramref name="into"/>; false when none is known.</summary>
    internal bool AddIssuersOf(X509Certificate2 leaf, X509Certificate2Collection into)
    {
        var found = false;
        var certificate = leaf;
        for (var depth = 0; depth < MaxDepth && _issuers.TryGetValue(KeyOf(certificate), out var issuer); depth++)
        {
            into.Add(issuer);
            found = true;
            if (issuer.SubjectName.RawData.AsSpan().SequenceEqual(issuer.IssuerName.RawData))
                break;
            certificate = issuer;
        }
        return found;
    }

    /// <summary>
    /// Remembers the CAs of a chain that was just validated (leaf first), except the last element, the anchor, which
    /// is trusted by configuration and not a hint.
    /// </summary>
    internal void Learn(X509ChainElementCollection chain)
    {
        for (var i = 0; i + 2 < chain.Count; i++)
        {
            var issued = chain[i].Certificate;
            var issuer = chain[i + 1].Certificate;
            var key = KeyOf(issued);
            if (_issuers.TryGetValue(key, out var known) && known.RawDataMemory.Span.SequenceEqual(issuer.RawDataMemory.Span))
                continue;
            if (!_issuers.ContainsKey(key) && _issuers.Count >= _capacity)
                ForgetOne();
            // A copy: the chain's certificates are disposed when the validation ends.
            _issuers[key] = X509CertificateLoader.LoadCertificate(issuer.RawDataMemory.Span);
        }
    }

    private void ForgetOne()
    {
        foreach (var (key, _) in _issuers)
        {
            if (_issuers.TryRemove(key, out _))
                return;
        }
    }

    private static string KeyOf(X509Certificate2 issued)
    {
        foreach (var extension in issued.Extensions)
        {
            if (extension is X509AuthorityKeyIdentifierExtension { KeyIdentifier: { } keyId })
                return Convert.ToHexString(keyId.Span);
        }
        return "name:" + issued.IssuerName.Name;
    }
}
