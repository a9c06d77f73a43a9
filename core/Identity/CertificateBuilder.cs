using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FedMesh.Core.Identity;

/// <summary>Pieces shared by every certificate FedMesh issues: P-256 keys, serial numbers, validity clamping.</summary>
internal static class CertificateBuilder
{
    public static readonly HashAlgorithmName Hash = HashAlgorithmName.SHA256;
    public static readonly Oid ServerAuth = new("1.3.6.1.5.5.7.3.1", "Server Authentication");
    public static readonly Oid ClientAuth = new("1.3.6.1.5.5.7.3.2", "Client Authentication");
    private const string EcPublicKeyOid = "1.2.840.10045.2.1";
    private const string P256Oid = "1.2.840.10045.3.1.7";

    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>16 random bytes, positive and without a leading zero byte (DER-minimal).</summary>
    public static byte[] NewSerial()
    {
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    public static DateTimeOffset NotAfter(X509Certificate2 certificate) => new(certificate.NotAfter.ToUniversalTime());

    public static DateTimeOffset NotBefore(X509Certificate2 certificate) => new(certificate.NotBefore.ToUniversalTime());

    /// <summary>[now - skew, now + lifetime], kept inside the issuer's own validity.</summary>
    public static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) Validity(
        DateTimeOffset now, TimeSpan lifetime, X509Certificate2? issuer)
    {
        if (lifetime <= TimeSpan.Zero)
        {
            throw new IdentityException($"certificate lifetime must be positive, got {lifetime}");
        }
        var notBefore = now - IdentityDefaults.ClockSkewAllowance;
        var notAfter = now + lifetime;
        if (issuer is not null)
        {
            var issuerNotAfter = NotAfter(issuer);
            if (issuerNotAfter <= now)
            {
                throw new IdentityException(
                    $"issuer '{issuer.Subject}' expired at {issuerNotAfter:u}; create a new one before signing");
            }
            notAfter = notAfter < issuerNotAfter ? notAfter : issuerNotAfter;
            var issuerNotBefore = NotBefore(issuer);
            notBefore = notBefore > issuerNotBefore ? notBefore : issuerNotBefore;
        }
        return (notBefore, notAfter);
    }

    /// <summary>True when <paramref name="key"/> is an ECDSA key on the NIST P-256 curve.</summary>
    public static bool IsP256(PublicKey key)
    {
        if (key.Oid.Value != EcPublicKeyOid)
        {
            return false;
        }
        using var ec = key.GetECDsaPublicKey();
        if (ec is null || ec.KeySize != 256)
        {
            return false;
        }
        var curve = ec.ExportParameters(false).Curve;
        return curve.IsNamed && (curve.Oid.Value == P256Oid || curve.Oid.FriendlyName is "nistP256" or "ECDSA_P256");
    }

    public static bool SamePublicKey(X509Certificate2 certificate, ECDsa key)
    {
        using var certKey = certificate.GetECDsaPublicKey();
        return certKey is not null
            && certKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo());
    }

    public static bool IsCertificateAuthority(X509Certificate2 certificate)
    {
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509BasicConstraintsExtension constraints)
            {
                return constraints.CertificateAuthority;
            }
        }
        return false;
    }
}
