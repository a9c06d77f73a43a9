using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

/// <summary>A peer that shows only its leaf (a resumed session) is chained with issuers learned from validated chains, and checked in full.</summary>
public sealed class PeerIntermediatesTests : IDisposable
{
    private readonly ManualTimeProvider _time = new(TestPki.Start);
    private readonly CertificateAuthority _root;
    private readonly CertificateAuthority _west;
    private readonly PeerIntermediates _learned = new();

    public PeerIntermediatesTests()
    {
        _root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        _west = _root.CreateIntermediate("west");
    }

    public void Dispose()
    {
        _west.Dispose();
        _root.Dispose();
    }

    [Fact]
    public void Validate_LeafAloneBeforeAnyChainWasSeen_RefusedSayingTheIssuerIsUnknown()
    {
        using var leaf = TestPki.Leaf(_west, TestPki.Id());

        Assert.Null(PeerCertificateValidator.Validate(leaf, [], [_root.Certificate], _time, _learned, out var error));
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", error);
        Assert.Contains("no validated chain has shown that issuer yet", error);
    }

    [Fact]
    public void Validate_LeafAloneAfterItsIssuerWasSeen_ReturnsItsId()
    {
        using var first = TestPki.Leaf(_west, TestPki.Id("west", "default", "a"));
        using var second = TestPki.Leaf(_west, TestPki.Id("west", "default", "b"));
        Assert.NotNull(PeerCertificateValidator.Validate(first, [_west.Certificate], [_root.Certificate], _time, _learned, out _));

        var id = PeerCertificateValidator.Validate(second, [], [_root.Certificate], _time, _learned, out var error);

        Assert.Null(error);
        Assert.Equal(TestPki.Id("west", "default", "b"), id);
        Assert.Equal(1, _learned.Count); // one issuer, whichever of its leaves showed it
    }

    [Fact]
    public void Validate_LearnedIssuerButAnchorsRotated_Refused()
    {
        using var leaf = TestPki.Leaf(_west, TestPki.Id());
        PeerCertificateValidator.Validate(leaf, [_west.Certificate], [_root.Certificate], _time, _learned, out _);
        using var newRoot = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);

        Assert.Null(PeerCertificateValidator.Validate(leaf, [], [newRoot.Certificate], _time, _learned, out var error));
        Assert.Contains("does not chain to a trusted FedMesh trust anchor", error);
    }

    [Fact]
    public void Validate_LearnedIssuerExpiredSince_Refused()
    {
        using var shortIssuer = _root.CreateIntermediate("west", TimeSpan.FromHours(2));
        using var leaf = TestPki.Leaf(shortIssuer, TestPki.Id(), TimeSpan.FromHours(1));
        PeerCertificateValidator.Validate(leaf, [shortIssuer.Certificate], [_root.Certificate], _time, _learned, out _);
        _time.Advance(TimeSpan.FromHours(3));

        Assert.Null(PeerCertificateValidator.Validate(leaf, [], [_root.Certificate], _time, _learned, out var error));
        Assert.Contains("is not valid at", error);
    }

    [Fact]
    public void Validate_LearnedIssuerOutOfTheLeafsScope_Refused()
    {
        // The west issuer cannot vouch for an east identity, learned or presented.
        using var good = TestPki.Leaf(_west, TestPki.Id("west"));
        PeerCertificateValidator.Validate(good, [_west.Certificate], [_root.Certificate], _time, _learned, out _);
        using var forged = TestPki.ForgeLeaf(_west, TestPki.Id("east"));

        Assert.Null(PeerCertificateValidator.Validate(forged, [], [_root.Certificate], _time, _learned, out var error));
        Assert.Contains("cannot vouch for that identity", error);
    }

    [Fact]
    public void Learn_PastCapacity_StaysBounded()
    {
        var learned = new PeerIntermediates(capacity: 2);
        foreach (var cluster in new[] { "a", "b", "c" })
        {
            using var issuer = _root.CreateIntermediate(cluster);
            using var leaf = TestPki.Leaf(issuer, TestPki.Id(cluster));
            Assert.NotNull(PeerCertificateValidator.Validate(leaf, [issuer.Certificate], [_root.Certificate], _time, learned, out _));
        }

        Assert.Equal(2, learned.Count);
    }
}
