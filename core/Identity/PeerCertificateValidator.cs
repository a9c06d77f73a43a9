using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>
/// Checks a peer's certificate: its chain ends at one of the trust anchors (presented intermediates are used to
/// build it, no revocation check), every certificate is valid now, the leaf is an end entity whose URI SAN is a
/// well-formed SPIFFE id, and the id lies inside the scope of every FedMesh CA on the chain (an issuer of cluster
/// west cannot vouch for an identity of cluster east). Given <see cref="PeerIntermediates"/>, a peer that presented
/// only its leaf (a resumed TLS session) is chained with issuers learned from earlier validated chains, and every
/// chain that validates teaches it; every check above runs either way.
/// </summary>
public static class PeerCertificateValidator
{
    /// <summary>Validates against the system clock; returns the peer's id, or null with a message for people.</summary>
    public static SpiffeId? Validate(X509Certificate2? leaf, X509Chain? presentedChain,
        IReadOnlyList<X509Certificate2> anchors, out string? error) =>
        Validate(leaf, presentedChain, anchors, TimeProvider.System, null, out error);

    /// <summary>
    /// Validates what a TLS handshake presented (the chain its validation callback got) at <paramref name="time"/>'s
    /// current instant, with <paramref name="learned"/> standing in for intermediates the peer did not present.
    /// </summary>
    public static SpiffeId? Validate(X509Certificate2? leaf, X509Chain? presentedChain,
        IReadOnlyList<X509Certificate2> anchors, TimeProvider time, PeerIntermediates? learned, out string? error)
    {
        var extra = new X509Certificate2Collection();
        if (presentedChain is not null)
        {
            foreach (var element in presentedChain.ChainElements)
            {
                extra.Add(element.Certificate);
            }
            extra.AddRange(presentedChain.ChainPolicy.ExtraStore);
        }
        return Validate(leaf, extra, anchors, time, learned, out error);
    }

    /// <summary>Validates a leaf with the intermediates the peer presented alongside it.</summary>
    public static SpiffeId? Validate(X509Certificate2? leaf, IEnumerable<X509Certificate2> intermediates,
        IReadOnlyList<X509Certificate2> anchors, TimeProvider time, out string? error) =>
        Validate(leaf, intermediates, anchors, time, null, out error);

    /// <summary>
    /// Validates a leaf with the intermediates the peer presented alongside it; when it presented none (a resumed TLS
    /// session), with the issuers <paramref name="learned"/> remembers, which a validated chain adds to.
    /// </summary>
    public static SpiffeId? Validate(X509Certificate2? leaf, IEnumerable<X509Certificate2> intermediates,
        IReadOnlyList<X509Certificate2> anchors, TimeProvider time, PeerIntermediates? learned, out string? error)
    {
        ArgumentNullException.ThrowIfNull(anchors);
        ArgumentNullException.ThrowIfNull(time);
        if (leaf is null)
        {
            error = "the peer presented no certificate";
            return null;
        }
        if (anchors.Count == 0)
        {
            error = "no trust anchors are configured, so no peer can be trusted";
            return null;
        }
        if (CertificateBuilder.IsCertificateAuthority(leaf))
        {
            error = $"the peer presented a CA certificate ('{leaf.Subject}') instead of a workload certificate";
            return null;
        }
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = time.GetUtcNow().UtcDateTime;
        policy.VerificationTimeIgnored = false;
        foreach (var anchor in anchors)
        {
            policy.CustomTrustStore.Add(anchor);
        }
        var presentedIssuer = false;
        foreach (var certificate in intermediates)
        {
            policy.ExtraStore.Add(certificate);
            presentedIssuer |= !certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span);
        }
        // Only when the peer presented no issuer at all: a presented chain is what the peer stands by, and mixing in an
        // older remembered issuer of the same name could make the builder pick the wrong one.
        var fromMemory = !presentedIssuer && learned is not null && learned.AddIssuersOf(leaf, policy.ExtraStore);
        try
        {
            if (!chain.Build(leaf))
            {
                error = DescribeFailure(chain, leaf, policy.VerificationTime);
                if (!presentedIssuer && !fromMemory && learned is not null)
                {
                    error += "; it came without its issuer (a resumed TLS session) and no validated chain has shown that issuer yet";
                }
                return null;
            }
            var id = SpiffeId.FromCertificate(leaf, out error);
            if (id is null)
            {
                return null;
            }
            error = CheckScopes(chain, id);
            if (error is not null)
            {
                return null;
            }
            learned?.Learn(chain.ChainElements);
            return id;
        }
        finally
        {
            foreach (var element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    private static string? CheckScopes(X509Chain chain, SpiffeId id)
    {
        for (var i = 1; i < chain.ChainElements.Count; i++)
        {
            var ca = chain.ChainElements[i].Certificate;
            foreach (var uri in SanUris.Read(ca))
            {
                if (SpiffeId.TryParseScope(uri, out var trustDomain, out var cluster)
                    && (trustDomain != id.TrustDomain || (cluster is not null && cluster != id.Cluster)))
                {
                    return $"'{id}' was signed by '{ca.Subject}', whose scope is {uri}; it cannot vouch for that identity";
                }
            }
        }
        return null;
    }

    private static string DescribeFailure(X509Chain chain, X509Certificate2 leaf, DateTime now)
    {
        foreach (var element in chain.ChainElements)
        {
            foreach (var status in element.ChainElementStatus)
            {
                if (status.Status.HasFlag(X509ChainStatusFlags.NotTimeValid))
                {
                    var c = element.Certificate;
                    return $"certificate '{c.Subject}' is not valid at {now:u} (valid from {c.NotBefore.ToUniversalTime():u} to {c.NotAfter.ToUniversalTime():u})";
                }
            }
        }
        foreach (var status in chain.ChainStatus)
        {
            if ((status.Status & (X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain)) != 0)
            {
                return $"certificate '{leaf.Subject}' does not chain to a trusted FedMesh trust anchor";
            }
        }
        var reasons = new List<string>();
        foreach (var status in chain.ChainStatus)
        {
            reasons.Add(status.StatusInformation.Trim() is { Length: > 0 } info ? info : status.Status.ToString());
        }
        return $"certificate '{leaf.Subject}' was refused: {string.Join("; ", reasons)}";
    }
}
