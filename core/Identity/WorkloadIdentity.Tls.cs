using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Identity;

public sealed partial class WorkloadIdentity
{
    private const SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    // At the TLS layer any client certificate is accepted; a missing one is refused by the handshake.
    // Authorization happens above TLS (PeerCertificateValidator) so it can answer with a clear error.
    private static readonly RemoteCertificateValidationCallback AnyClientCertificate =
        static (_, certificate, _, _) => certificate is not null;

    /// <summary>
    /// Server side: presents our current leaf with its chain, requires a client certificate and accepts any at the
    /// TLS layer; the caller authorizes it through <see cref="PeerCertificateValidator"/> with
    /// <see cref="LearnedIntermediates"/>. Call per connection so renewed certificates are picked up.
    /// </summary>
    /// <remarks>
    /// Sessions resume: the runtime keeps one TLS context per server certificate, whose ticket key lives as long as
    /// it does, so a ticket only opens on a listener presenting the same certificate; a renewed certificate means a
    /// new context, and every client does a full handshake again. A resumed session shows the validation callback
    /// the client's leaf alone, which <see cref="LearnedIntermediates"/> chains; every check still runs.
    /// </remarks>
    public SslServerAuthenticationOptions ServerOptions() => new()
    {
        AllowTlsResume = true,
        ServerCertificateContext = Volatile.Read(ref _material).Context,
        ClientCertificateRequired = true,
        RemoteCertificateValidationCallback = AnyClientCertificate,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = PeerChainPolicy(),
        EnabledSslProtocols = Protocols,
    };

    /// <summary>
    /// The policy of the chain TLS builds for the peer's certificate before the validation callback runs (which
    /// builds its own, and decides): our anchors only. With the default policy every handshake built it against
    /// the system's root store, whose hundred-odd certificates OpenSSL sorted each time; with this one a burst of
    /// new mTLS connections costs less CPU (bench/dataplane, burst of 100 new connections).
    /// </summary>
    public X509ChainPolicy PeerChainPolicy()
    {
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        foreach (var anchor in Anchors)
            policy.CustomTrustStore.Add(anchor);
        return policy;
    }

    /// <summary>
    /// Client side: presents our current leaf, accepts the server only if it chains to an anchor and its SPIFFE id
    /// equals <paramref name="expectedServer"/> (any id of our trust domain when null). Host names are not checked:
    /// the SPIFFE id is the server's name.
    /// </summary>
    /// <remarks>
    /// Sessions may resume, but the runtime only caches a client session under a <c>TargetHost</c> that is a name
    /// (never an IP address), one session per name, in a context per client certificate (so a renewal starts
    /// afresh). <see cref="Forwarding.MeshClient"/> gives each upstream address and expected identity its own name.
    /// The server check runs on resumed sessions too.
    /// </remarks>
    public SslClientAuthenticationOptions ClientOptions(string? expectedServer) => new()
    {
        AllowTlsResume = true,
        ClientCertificateContext = Volatile.Read(ref _material).Context,
        RemoteCertificateValidationCallback = new ServerCheck(this, expectedServer).Validate,
        CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
        CertificateChainPolicy = PeerChainPolicy(),
        EnabledSslProtocols = Protocols,
    };

    /// <summary>Checks a server certificate against the current anchors and the expected id; logs why it refuses.</summary>
    private sealed class ServerCheck(WorkloadIdentity owner, string? expected)
    {
        public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            var leaf = certificate as X509Certificate2;
            using var loaded = leaf is null && certificate is not null
                ? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData())
                : null;
            var id = PeerCertificateValidator.Validate(leaf ?? loaded, chain, owner.Anchors, owner._time, owner.LearnedIntermediates, out var error);
            if (id is not null)
            {
                var name = id.ToString();
                if (expected is null ? id.TrustDomain == owner.Id.TrustDomain : string.Equals(name, expected, StringComparison.Ordinal))
                {
                    return true;
                }
                error = expected is null
                    ? $"server '{name}' belongs to another trust domain than '{owner.Id.TrustDomain}'"
                    : $"server presented '{name}' but '{expected}' was expected";
            }
            owner._logger.LogWarning("refused TLS server: {Error}", error);
            return false;
        }
    }
}
