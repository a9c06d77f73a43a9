using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

/// <summary>Keys and CSRs for tests, built the way a workload builds them.</summary>
internal static class TestPki
{
    public const string TrustDomain = "fedmesh.local";
    public static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static SpiffeId Id(string cluster = "west", string ns = "default", string sa = "echo") =>
        new(TrustDomain, cluster, ns, sa);

    public static byte[] Csr(ECDsa key, params string[] uris)
    {
        var request = new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256);
        if (uris.Length > 0)
        {
            var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
            using (writer.PushSequence())
            {
                foreach (var uri in uris)
                {
                    writer.WriteCharacterString(System.Formats.Asn1.UniversalTagNumber.IA5String, uri,
                        new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 6));
                }
            }
            request.CertificateExtensions.Add(new X509Extension("2.5.29.17", writer.Encode(), false));
        }
        return request.CreateSigningRequest();
    }

    public static X509Certificate2 Leaf(CertificateAuthority issuer, SpiffeId id, TimeSpan? lifetime = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return issuer.SignLeaf(Csr(key, id.ToString()), id, lifetime ?? TimeSpan.FromHours(24));
    }

    /// <summary>Signs with the issuer's key, bypassing SignLeaf's checks, by reloading the saved CA key.</summary>
    public static X509Certificate2 ForgeLeaf(CertificateAuthority issuer, SpiffeId? id)
    {
        var directory = Directory.CreateTempSubdirectory("fedmesh-forge-").FullName;
        try
        {
            issuer.Save(directory);
            using var issuerKey = ECDsa.Create();
            issuerKey.ImportFromPem(File.ReadAllText(Path.Combine(directory, "ca.key")));
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=forged", key, HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer.Certificate, true, false));
            if (id is not null)
            {
                var san = new SubjectAlternativeNameBuilder();
                san.AddUri(new Uri(id.ToString()));
                request.CertificateExtensions.Add(san.Build());
            }
            return request.Create(issuer.Certificate.SubjectName, X509SignatureGenerator.CreateForECDsa(issuerKey),
                Start.AddMinutes(-1), Start.AddHours(1), [0x42, 0x01]);
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }
}
