using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace FedMesh.Core.Identity;

public sealed partial class CertificateAuthority
{
    /// <summary>File holding this CA's certificate followed by its issuer chain, PEM.</summary>
    public const string CertificateFileName = "ca.crt";

    /// <summary>File holding this CA's private key, PKCS#8 PEM, readable by its owner only.</summary>
    public const string KeyFileName = "ca.key";

    /// <summary>Writes ca.crt (chain PEM) and ca.key (PEM, mode 0600) atomically (temp file + rename).</summary>
    public void Save(string directory)
    {
        Directory.CreateDirectory(directory);
        var chain = new StringBuilder();
        chain.Append(Certificate.ExportCertificatePem()).Append('\n');
        foreach (var issuer in _issuerChain)
        {
            chain.Append(issuer.ExportCertificatePem()).Append('\n');
        }
        // Key first: a crash between the two renames then leaves a key without its certificate, never the reverse.
        WriteAtomically(Path.Combine(directory, KeyFileName), _key.ExportPkcs8PrivateKeyPem() + "\n", secret: true);
        WriteAtomically(Path.Combine(directory, CertificateFileName), chain.ToString(), secret: false);
    }

    /// <summary>Loads a CA written by <see cref="Save"/>; throws <see cref="IdentityException"/> naming the file and the problem.</summary>
    public static CertificateAuthority Load(string directory, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        var certPath = Path.Combine(directory, CertificateFileName);
        var keyPath = Path.Combine(directory, KeyFileName);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPem(ReadFile(certPath));
        }
        catch (CryptographicException e)
        {
            throw new IdentityException($"{certPath}: not a PEM certificate chain: {e.Message}", e);
        }
        if (certificates.Count == 0)
        {
            throw new IdentityException($"{certPath}: contains no certificate");
        }
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(ReadFile(keyPath));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new IdentityException($"{keyPath}: not a PEM ECDSA private key: {e.Message}", e);
        }
        var certificate = certificates[0];
        var problem = Describe(certificate, key, certificates, certPath, keyPath, out var trustDomain, out var cluster);
        if (problem is not null)
        {
            key.Dispose();
            throw new IdentityException(problem);
        }
        var chain = new X509Certificate2[certificates.Count - 1];
        for (var i = 1; i < certificates.Count; i++)
        {
            chain[i - 1] = certificates[i];
        }
        return new CertificateAuthority(certificate, key, chain, time, trustDomain!, cluster);
    }

    private static string? Describe(X509Certificate2 certificate, ECDsa key, X509Certificate2Collection all,
        string certPath, string keyPath, out string? trustDomain, out string? cluster)
    {
        trustDomain = null;
        cluster = null;
        if (key.KeySize != 256)
        {
            return $"{keyPath}: the key must be ECDSA P-256, found a {key.KeySize}-bit key";
        }
        if (!CertificateBuilder.SamePublicKey(certificate, key))
        {
            return $"{keyPath} does not belong to the first certificate in {certPath} ('{certificate.Subject}')";
        }
        if (!CertificateBuilder.IsCertificateAuthority(certificate))
        {
            return $"{certPath}: '{certificate.Subject}' is not a CA certificate";
        }
        var last = all[^1];
        if (!last.SubjectName.RawData.AsSpan().SequenceEqual(last.IssuerName.RawData))
        {
            return $"{certPath}: the chain must end with the self-signed trust anchor, but ends with '{last.Subject}'";
        }
        var uris = SanUris.Read(certificate);
        if (uris.Count != 1 || !SpiffeId.TryParseScope(uris[0], out trustDomain, out cluster))
        {
            return $"{certPath}: '{certificate.Subject}' carries no FedMesh scope (spiffe://<trust-domain>[/cluster/<cluster>])";
        }
        if ((cluster is null) != (all.Count == 1))
        {
            return $"{certPath}: a trust anchor must stand alone and an issuer must be followed by its chain";
        }
        return null;
    }

    private static string ReadFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IdentityException($"cannot read {path}: {e.Message}", e);
        }
    }

    private static void WriteAtomically(string path, string content, bool secret)
    {
        var temp = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!,
            $".{Path.GetFileName(path)}.{Convert.ToHexString(RandomNumberGenerator.GetBytes(6))}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = secret
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        }
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                stream.Write(Encoding.ASCII.GetBytes(content));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }
}
