using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Tests.Forwarding.Support;

internal static class TestCertificate
{
    /// <summary>A self-signed server certificate for <c>upstream.test</c>, valid for an hour (clients in the tests accept any).</summary>
    public static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=upstream.test", key, HashAlgorithmName.SHA256);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pfx), null);
    }
}
