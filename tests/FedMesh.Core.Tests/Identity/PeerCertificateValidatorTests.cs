using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

public sealed class PeerCertificateValidatorTests : IDisposable
{
    private readonly ManualTimeProvider _time = new(TestPki.Start);
    private readonly CertificateAuthority _root;
    private readonly CertificateAuthority _west;

    public PeerCertificateValidatorTests()
    {
        _root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        _west = _root.CreateIntermediate("west");
    }

    [Fact]
    public void Validate_LeafFromClusterIssuer_ReturnsItsId()
    {
        using var leaf = TestPki.Leaf(_west, TestPki.Id());

        var id = PeerCertificateValidator.Validate(leaf, [_west.Certificate], [_root.Certificate], _time, out var error);

        Assert.Null(error);
        Assert.Equal(TestPki.Id(), id);
    }

    [Fact]
    public void Validate_WithoutPresentedIntermediate_IsRefused()
    {
        using var leaf = TestPki.Leaf(_west, TestPki.Id());

        Assert.Null(PeerCertificateValidator.Validate(leaf, [], [_root.Certificate], _time, out var error));
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", error);
    }

    [Fact]
    public void Validate_OtherTrustAnchor_IsRefused()
    {
        using var otherRoot = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        using var otherIssuer = otherRoot.CreateIntermediate("west");
        using var leaf = TestPki.Leaf(otherIssuer, TestPki.Id());

        var id = PeerCertificateValidator.Validate(leaf, [otherIssuer.Certificate], [_root.Certificate], _time, out var error);

        Assert.Null(id);
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", error);
    }

    [Fact]
    public void Validate_Expired_IsRefusedWithValidityWindow()
    {
        using var leaf = TestPki.Leaf(_west, TestPki.Id(), TimeSpan.FromHours(1));
        _time.Advance(TimeSpan.FromHours(2));

        var id = PeerCertificateValidator.Validate(leaf, [_west.Certificate], [_root.Certificate], _time, out var error);

        Assert.Null(id);
        Assert.Contains("is not valid at 2026-03-01 14:00:00Z", error);
        Assert.Contains("to 2026-03-01 13:00:00Z", error);
    }

    [Fact]
    public void Validate_NotYetValid_IsRefused()
    {
        using var leaf = TestPki.Leaf(_west, TestPki.Id());
        var past = new ManualTimeProvider(TestPki.Start.AddHours(-1));

        Assert.Null(PeerCertificateValidator.Validate(leaf, [_west.Certificate], [_root.Certificate], past, out var error));
        Assert.Contains("is not valid at", error);
    }

    [Fact]
    public void Validate_NoCertificate_SaysSo()
    {
        Assert.Null(PeerCertificateValidator.Validate(null, (X509Chain?)null, [_root.Certificate], out var error));
        Assert.Equal("the peer presented no certificate", error);
    }

    [Fact]
    public void Validate_CaCertificateAsLeaf_IsRefused()
    {
        Assert.Null(PeerCertificateValidator.Validate(_west.Certificate, [], [_root.Certificate], _time, out var error));
        Assert.Contains("CA certificate", error);
    }

    [Fact]
    public void Validate_IssuerOfOneClusterVouchingForAnother_IsRefused()
    {
        // A west issuer that (through a bug or compromise) signed an east identity must not be believed.
        var forged = TestPki.ForgeLeaf(_west, TestPki.Id(cluster: "east"));

        var id = PeerCertificateValidator.Validate(forged, [_west.Certificate], [_root.Certificate], _time, out var error);

        Assert.Null(id);
        Assert.Contains("scope is spiffe://fedmesh.local/cluster/west", error);
    }

    [Fact]
    public void Validate_LeafWithoutSpiffeSan_IsRefused()
    {
        var forged = TestPki.ForgeLeaf(_west, null);

        Assert.Null(PeerCertificateValidator.Validate(forged, [_west.Certificate], [_root.Certificate], _time, out var error));
        Assert.Contains("no URI SAN", error);
    }

    [Fact]
    public void Validate_LeafIsStillUsableAfterwards()
    {
        using var leaf = TestPki.Leaf(_west, TestPki.Id());

        PeerCertificateValidator.Validate(leaf, [_west.Certificate], [_root.Certificate], _time, out _);

        Assert.Equal(TestPki.Id(), SpiffeId.FromCertificate(leaf, out _));
    }

    public void Dispose()
    {
        _west.Dispose();
        _root.Dispose();
    }
}
