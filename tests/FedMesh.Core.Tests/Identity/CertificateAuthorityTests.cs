using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

public sealed class CertificateAuthorityTests
{
    private readonly ManualTimeProvider _time = new(TestPki.Start);

    [Fact]
    public void CreateRoot_IsSelfSignedCaForTenYears()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);

        Assert.True(root.IsRoot);
        Assert.Same(root.Certificate, root.Root);
        Assert.Empty(root.IssuerChain);
        var constraints = root.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.Equal(TestPki.Start.AddDays(3650), new DateTimeOffset(root.Certificate.NotAfter.ToUniversalTime()));
        Assert.Equal("ECC", root.Certificate.PublicKey.Oid.FriendlyName);
    }

    [Fact]
    public void CreateIntermediate_HasPathLengthZeroAndChainsToRoot()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        using var issuer = root.CreateIntermediate("west");

        var constraints = issuer.Certificate.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.True(constraints.HasPathLengthConstraint);
        Assert.Equal(0, constraints.PathLengthConstraint);
        Assert.Equal("west", issuer.Cluster);
        Assert.Equal(root.Certificate.Thumbprint, issuer.Root.Thumbprint);
        Assert.Equal(TestPki.Start.AddDays(365), new DateTimeOffset(issuer.Certificate.NotAfter.ToUniversalTime()));
        Assert.Throws<IdentityException>(() => issuer.CreateIntermediate("east"));
    }

    [Fact]
    public void SignLeaf_ValidCsr_IssuesEndEntityWithSanEkuAndBackdating()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        using var issuer = root.CreateIntermediate("west");
        var id = TestPki.Id();

        using var leaf = TestPki.Leaf(issuer, id);

        Assert.Equal(id, SpiffeId.FromCertificate(leaf, out var error));
        Assert.Null(error);
        Assert.False(leaf.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.DigitalSignature, leaf.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
        var ekus = leaf.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages;
        Assert.Contains(ekus.Cast<Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.1");
        Assert.Contains(ekus.Cast<Oid>(), o => o.Value == "1.3.6.1.5.5.7.3.2");
        Assert.Equal(TestPki.Start.AddMinutes(-1), new DateTimeOffset(leaf.NotBefore.ToUniversalTime()));
        Assert.Equal(TestPki.Start.AddHours(24), new DateTimeOffset(leaf.NotAfter.ToUniversalTime()));
        Assert.Equal(id, PeerCertificateValidator.Validate(leaf, [issuer.Certificate], [root.Certificate], _time, out error));
    }

    [Fact]
    public void SignLeaf_SanNamesAnotherIdentity_IsRefused()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = TestPki.Csr(key, TestPki.Id(sa: "admin").ToString());

        var e = Assert.Throws<IdentityException>(() => root.SignLeaf(csr, TestPki.Id(), TimeSpan.FromHours(1)));

        Assert.Contains("names 'spiffe://fedmesh.local/cluster/west/ns/default/sa/admin'", e.Message);
        Assert.Contains("requested identity is 'spiffe://fedmesh.local/cluster/west/ns/default/sa/echo'", e.Message);
    }

    [Fact]
    public void SignLeaf_NoSanOrTwoSans_IsRefused()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var id = TestPki.Id();

        Assert.Contains("no URI SAN", Assert.Throws<IdentityException>(
            () => root.SignLeaf(TestPki.Csr(key), id, TimeSpan.FromHours(1))).Message);
        Assert.Contains("2 URI SANs", Assert.Throws<IdentityException>(
            () => root.SignLeaf(TestPki.Csr(key, id.ToString(), id.ToString()), id, TimeSpan.FromHours(1))).Message);
    }

    [Fact]
    public void SignLeaf_TamperedCsr_SignatureDoesNotVerify()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var csr = TestPki.Csr(key, TestPki.Id().ToString());
        var subject = csr.AsSpan().IndexOf("test"u8);
        csr[subject] = (byte)'b';

        var e = Assert.Throws<IdentityException>(() => root.SignLeaf(csr, TestPki.Id(), TimeSpan.FromHours(1)));

        Assert.Contains("signature does not verify", e.Message);
    }

    [Fact]
    public void SignLeaf_RsaOrP384Key_IsRefused()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        var id = TestPki.Id();
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        using var rsa = RSA.Create(2048);
        var rsaRequest = new CertificateRequest("CN=x", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        Assert.Contains("P-256", Assert.Throws<IdentityException>(
            () => root.SignLeaf(TestPki.Csr(p384, id.ToString()), id, TimeSpan.FromHours(1))).Message);
        Assert.Throws<IdentityException>(() => root.SignLeaf(rsaRequest.CreateSigningRequest(), id, TimeSpan.FromHours(1)));
    }

    [Fact]
    public void SignLeaf_IdentityOfAnotherCluster_IsOutsideIssuerScope()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        using var issuer = root.CreateIntermediate("west");
        var east = TestPki.Id(cluster: "east");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        var e = Assert.Throws<IdentityException>(() => issuer.SignLeaf(TestPki.Csr(key, east.ToString()), east, TimeSpan.FromHours(1)));

        Assert.Contains("outside this issuer's scope spiffe://fedmesh.local/cluster/west", e.Message);
    }

    [Fact]
    public void SignLeaf_LifetimeBeyondIssuer_IsClampedToIssuer()
    {
        using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time, TimeSpan.FromHours(2));

        using var leaf = TestPki.Leaf(root, TestPki.Id(), TimeSpan.FromHours(24));

        Assert.Equal(root.Certificate.NotAfter, leaf.NotAfter);
    }

    [Fact]
    public void SaveLoad_RoundTripsChainAndKey_KeyIsOwnerOnly()
    {
        var directory = Directory.CreateTempSubdirectory("fedmesh-ca-").FullName;
        try
        {
            using var root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
            using var issuer = root.CreateIntermediate("west");
            issuer.Save(directory);
            issuer.Save(directory); // overwriting is atomic and leaves no temp files behind

            using var loaded = CertificateAuthority.Load(directory, _time);

            Assert.Equal(issuer.Certificate.Thumbprint, loaded.Certificate.Thumbprint);
            Assert.Equal(root.Certificate.Thumbprint, loaded.Root.Thumbprint);
            Assert.Equal("west", loaded.Cluster);
            Assert.Equal(TestPki.TrustDomain, loaded.TrustDomain);
            Assert.Equal(["ca.crt", "ca.key"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(directory, "ca.key")));
            }
            using var leaf = TestPki.Leaf(loaded, TestPki.Id());
            Assert.NotNull(PeerCertificateValidator.Validate(leaf, [loaded.Certificate], [root.Certificate], _time, out _));
        }
        finally
        {
            Directory.Delete(directory, true);
        }
    }

    [Fact]
    public void Load_KeyOfAnotherCa_SaysWhichFileIsWrong()
    {
        var first = Directory.CreateTempSubdirectory("fedmesh-ca-").FullName;
        var second = Directory.CreateTempSubdirectory("fedmesh-ca-").FullName;
        try
        {
            using var a = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
            using var b = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
            a.Save(first);
            b.Save(second);
            File.Copy(Path.Combine(second, "ca.key"), Path.Combine(first, "ca.key"), overwrite: true);

            var e = Assert.Throws<IdentityException>(() => CertificateAuthority.Load(first, _time));

            Assert.Contains("ca.key does not belong to the first certificate", e.Message);
            Assert.Contains("cannot read", Assert.Throws<IdentityException>(
                () => CertificateAuthority.Load(Path.Combine(first, "missing"), _time)).Message);
        }
        finally
        {
            Directory.Delete(first, true);
            Directory.Delete(second, true);
        }
    }
}
