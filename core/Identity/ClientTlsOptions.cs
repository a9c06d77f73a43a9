using System.Net.Security;

namespace FedMesh.Core.Identity;

/// <summary>Copies of client TLS options, for the hops that change a setting or two of the options they are given.</summary>
internal static class ClientTlsOptions
{
    /// <summary>A new options object with every setting of <paramref name="options"/> (the runtime offers no clone).</summary>
    public static SslClientAuthenticationOptions Copy(SslClientAuthenticationOptions options) => new()
    {
        AllowRenegotiation = options.AllowRenegotiation,
        AllowTlsResume = options.AllowTlsResume,
        ApplicationProtocols = options.ApplicationProtocols,
        CertificateChainPolicy = options.CertificateChainPolicy,
        CertificateRevocationCheckMode = options.CertificateRevocationCheckMode,
        CipherSuitesPolicy = options.CipherSuitesPolicy,
        ClientCertificateContext = options.ClientCertificateContext,
        ClientCertificates = options.ClientCertificates,
        EnabledSslProtocols = options.EnabledSslProtocols,
        EncryptionPolicy = options.EncryptionPolicy,
        LocalCertificateSelectionCallback = options.LocalCertificateSelectionCallback,
        RemoteCertificateValidationCallback = options.RemoteCertificateValidationCallback,
        TargetHost = options.TargetHost,
    };
}
