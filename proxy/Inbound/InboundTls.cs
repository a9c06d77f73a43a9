using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;
using FedMesh.Core.Transport;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy.Inbound;

/// <summary>
/// TLS for the inbound listener: presents our current leaf (renewals are picked up on the next
/// handshake), offers h2 and http/1.1 by ALPN, requires a client certificate and admits it only if
/// <see cref="PeerCertificateValidator"/> accepts it and its SPIFFE id is in our trust domain.
/// Sessions resume (see <see cref="WorkloadIdentity.ServerOptions"/>); a resumed one is checked in full too.
/// </summary>
internal sealed class InboundTls(WorkloadIdentity identity, TimeProvider time, ILogger logger)
{
    private static readonly List<SslApplicationProtocol> Alpn = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];
    private Cached? _cached;

    public TlsListenOptions ListenOptions() => new()
    {
        OnConnection = (_, _) => ValueTask.FromResult(Current()),
        HandshakeTimeout = TimeSpan.FromSeconds(10),
    };

    public SslServerAuthenticationOptions Current()
    {
        var certificate = identity.Certificate;
        var cached = Volatile.Read(ref _cached);
        if (cached is not null && ReferenceEquals(cached.Certificate, certificate))
            return cached.Options;
        // A fresh object per call: ours to finish. Resumption, the chain policy and the required client certificate
        // come from the identity; a resumed session shows only the peer's leaf, which ValidateClient chains with
        // LearnedIntermediates.
        var options = identity.ServerOptions();
        options.RemoteCertificateValidationCallback = ValidateClient;
        options.ApplicationProtocols = Alpn;
        Volatile.Write(ref _cached, new Cached(certificate, options));
        return options;
    }

    private bool ValidateClient(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null)
        {
            ProxyLog.InboundPeerRejected(logger, "(none)", "the client presented no certificate");
            return false;
        }
        using var loaded = certificate is X509Certificate2 ? null : X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        var leaf = loaded ?? (X509Certificate2)certificate;
        var id = PeerCertificateValidator.Validate(leaf, chain, identity.Anchors, time, identity.LearnedIntermediates, out var error);
        if (id is null)
        {
            ProxyLog.InboundPeerRejected(logger, leaf.Subject, error ?? "its chain does not end at a trusted anchor");
            return false;
        }
        if (!string.Equals(id.TrustDomain, identity.Id.TrustDomain, StringComparison.Ordinal))
        {
            ProxyLog.InboundPeerRejected(logger, id.ToString(), $"it is not in trust domain {identity.Id.TrustDomain}");
            return false;
        }
        return true;
    }

    private sealed record Cached(X509Certificate2 Certificate, SslServerAuthenticationOptions Options);
}
