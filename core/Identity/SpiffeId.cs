using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>
/// A FedMesh workload identity: <c>spiffe://&lt;trust-domain&gt;/cluster/&lt;c&gt;/ns/&lt;ns&gt;/sa/&lt;sa&gt;</c>.
/// The trust domain is a DNS name; cluster, namespace and service account are DNS labels.
/// </summary>
public sealed record SpiffeId(string TrustDomain, string Cluster, string Namespace, string ServiceAccount)
{
    /// <summary>The URI scheme prefix of every SPIFFE id.</summary>
    public const string Scheme = "spiffe://";

    private const string Shape = "spiffe://<trust-domain>/cluster/<cluster>/ns/<namespace>/sa/<service-account>";

    /// <summary>Creates an id from its parts, checking each; throws <see cref="IdentityException"/> naming the bad part.</summary>
    public static SpiffeId Create(string trustDomain, string cluster, string @namespace, string serviceAccount)
    {
        var id = new SpiffeId(trustDomain, cluster, @namespace, serviceAccount);
        return id.Validate() is { } error ? throw new IdentityException(error) : id;
    }

    /// <summary>Parses <paramref name="uri"/>; throws <see cref="IdentityException"/> saying what is wrong.</summary>
    public static SpiffeId Parse(string uri) =>
        TryParse(uri, out var id, out var error) ? id : throw new IdentityException(error);

    /// <summary>Parses <paramref name="uri"/>; on failure <paramref name="error"/> says what is wrong and how it should look.</summary>
    public static bool TryParse(string? uri, [NotNullWhen(true)] out SpiffeId? id, [NotNullWhen(false)] out string? error)
    {
        id = null;
        if (string.IsNullOrEmpty(uri))
        {
            error = $"the SPIFFE id is empty; expected {Shape}";
            return false;
        }
        if (!uri.StartsWith(Scheme, StringComparison.Ordinal))
        {
            error = $"'{uri}' is not a SPIFFE id: it must start with '{Scheme}' ({Shape})";
            return false;
        }
        var parts = uri[Scheme.Length..].Split('/');
        if (parts.Length != 7 || parts[1] != "cluster" || parts[3] != "ns" || parts[5] != "sa")
        {
            error = $"'{uri}' is not a FedMesh SPIFFE id: expected {Shape}";
            return false;
        }
        var candidate = new SpiffeId(parts[0], parts[2], parts[4], parts[6]);
        if (candidate.Validate() is { } problem)
        {
            error = $"'{uri}' is not a valid SPIFFE id: {problem}";
            return false;
        }
        id = candidate;
        error = null;
        return true;
    }

    /// <summary>The SPIFFE id in the certificate's URI SAN; null with an error if none or malformed.</summary>
    public static SpiffeId? FromCertificate(X509Certificate2 certificate, out string? error)
    {
        List<string> uris;
        try
        {
            uris = SanUris.Read(certificate);
        }
        catch (CryptographicException e)
        {
            error = $"certificate '{certificate.Subject}': {e.Message}";
            return null;
        }
        if (uris.Count != 1)
        {
            error = uris.Count == 0
                ? $"certificate '{certificate.Subject}' carries no URI SAN, so it names no SPIFFE identity"
                : $"certificate '{certificate.Subject}' carries {uris.Count} URI SANs; a SPIFFE certificate carries exactly one";
            return null;
        }
        if (!TryParse(uris[0], out var id, out var parseError))
        {
            error = $"certificate '{certificate.Subject}': {parseError}";
            return null;
        }
        error = null;
        return id;
    }

    /// <summary>Null when every part is well formed, otherwise a message naming each bad part.</summary>
    public string? Validate()
    {
        List<string>? problems = null;
        if (!DnsNames.IsName(TrustDomain))
        {
            (problems ??= []).Add($"trust domain '{TrustDomain}' must be a DNS name (dot-separated labels of {DnsNames.LabelRule})");
        }
        Check("cluster", Cluster, ref problems);
        Check("namespace", Namespace, ref problems);
        Check("service account", ServiceAccount, ref problems);
        return problems is null ? null : string.Join("; ", problems);
    }

    public override string ToString() => $"{Scheme}{TrustDomain}/cluster/{Cluster}/ns/{Namespace}/sa/{ServiceAccount}";

    /// <summary>The URI an issuer carries to scope what it may sign: the trust domain, optionally narrowed to one cluster.</summary>
    internal static string ScopeUri(string trustDomain, string? cluster) =>
        cluster is null ? $"{Scheme}{trustDomain}" : $"{Scheme}{trustDomain}/cluster/{cluster}";

    /// <summary>Parses an issuer scope URI (<c>spiffe://td</c> or <c>spiffe://td/cluster/c</c>).</summary>
    internal static bool TryParseScope(string uri, [NotNullWhen(true)] out string? trustDomain, out string? cluster)
    {
        trustDomain = null;
        cluster = null;
        if (!uri.StartsWith(Scheme, StringComparison.Ordinal))
        {
            return false;
        }
        var parts = uri[Scheme.Length..].Split('/');
        if (parts.Length == 1 && DnsNames.IsName(parts[0]))
        {
            trustDomain = parts[0];
            return true;
        }
        if (parts.Length == 3 && parts[1] == "cluster" && DnsNames.IsName(parts[0]) && DnsNames.IsLabel(parts[2]))
        {
            trustDomain = parts[0];
            cluster = parts[2];
            return true;
        }
        return false;
    }

    private static void Check(string what, string value, ref List<string>? problems)
    {
        if (!DnsNames.IsLabel(value))
        {
            (problems ??= []).Add($"{what} '{value}' must be a DNS label ({DnsNames.LabelRule})");
        }
    }
}
