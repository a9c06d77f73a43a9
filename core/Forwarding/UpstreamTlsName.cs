using System.Security.Cryptography;
using System.Text;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// The <c>TargetHost</c> a direct-path TLS connection to an upstream uses, which the runtime also makes its session
/// cache key (one session per name, names only: an IP address is never cached) and sends as SNI.
/// </summary>
/// <remarks>
/// <para>An upstream given by IP address (every mesh endpoint in the local federation and on Kubernetes) gets a
/// synthetic name, <c>&lt;32 hex&gt;.session.fedmesh.invalid</c>, a keyed hash of the address, the port and the
/// identity expected there: a session is offered only to the endpoint that issued it, and never when another identity is
/// expected. <c>.invalid</c> is reserved (RFC 6761), so the name cannot be anyone's; no FedMesh listener looks at SNI.</para>
/// <para>An upstream given by DNS name keeps that name, as before: something in front of it (a TLS-passthrough load
/// balancer) may route by SNI. The expected identity is then not in the key, and need not be: a session resumes only
/// on the server whose ticket key issued it, which presents the same leaf as in the full handshake, and the expected
/// identity is checked on every handshake, resumed or not; clients that expect different identities of one name only
/// share its cache slot.</para>
/// </remarks>
internal static class UpstreamTlsName
{
    public const string SyntheticSuffix = ".session.fedmesh.invalid";

    // The name goes out in the clear (SNI), and the identity in it is guessable (a SPIFFE id), so a plain hash would
    // tell an observer which identity the client expects, which TLS 1.3 otherwise hides (the server's certificate is
    // encrypted). Keyed with a secret of this process's own: the session cache lives in this process, so the name
    // only has to be stable here.
    private static readonly byte[] ProcessKey = RandomNumberGenerator.GetBytes(32);

    /// <param name="host">The upstream's host as in its URI (IdnHost).</param>
    /// <param name="isDnsName">Whether <paramref name="host"/> is a DNS name rather than an IP address.</param>
    /// <param name="expectedIdentity">The identity expected there; null when the client has none to pin (no session is kept then, unless the host is a name).</param>
    /// <returns>The name, or null for no TargetHost (an IP address without an expected identity: no SNI, no session, as before).</returns>
    public static string? For(string host, bool isDnsName, int port, string? expectedIdentity)
    {
        if (isDnsName)
            return host;
        if (expectedIdentity is null)
            return null;
        // Unambiguous input: neither a host nor a port holds a newline.
        var input = Encoding.UTF8.GetBytes($"{host}\n{port}\n{expectedIdentity}");
        Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(ProcessKey, input, hash);
        return Convert.ToHexStringLower(hash[..16]) + SyntheticSuffix;
    }
}
