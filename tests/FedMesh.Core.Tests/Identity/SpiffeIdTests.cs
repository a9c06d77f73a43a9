using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Identity;

public sealed class SpiffeIdTests
{
    [Fact]
    public void Parse_WellFormed_ReturnsParts()
    {
        var id = SpiffeId.Parse("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo");

        Assert.Equal(new SpiffeId("fedmesh.local", "west", "default", "echo"), id);
        Assert.Equal("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo", id.ToString());
    }

    [Theory]
    [InlineData(null, "empty")]
    [InlineData("", "empty")]
    [InlineData("https://fedmesh.local/cluster/west/ns/default/sa/echo", "must start with 'spiffe://'")]
    [InlineData("spiffe://fedmesh.local/cluster/west/ns/default", "expected spiffe://<trust-domain>/cluster/<cluster>/ns/<namespace>/sa/<service-account>")]
    [InlineData("spiffe://fedmesh.local/clusters/west/ns/default/sa/echo", "expected spiffe://")]
    [InlineData("spiffe://fedmesh.local/cluster/west/ns/default/sa/echo/extra", "expected spiffe://")]
    [InlineData("spiffe://fedmesh.local/cluster/West/ns/default/sa/echo", "cluster 'West' must be a DNS label")]
    [InlineData("spiffe://fedmesh.local/cluster/west/ns/-bad/sa/echo", "namespace '-bad' must be a DNS label")]
    [InlineData("spiffe://fedmesh.local/cluster/west/ns/default/sa/", "service account '' must be a DNS label")]
    [InlineData("spiffe://fed_mesh/cluster/west/ns/default/sa/echo", "trust domain 'fed_mesh' must be a DNS name")]
    [InlineData("spiffe://fedmesh..local/cluster/west/ns/default/sa/echo", "trust domain 'fedmesh..local'")]
    public void TryParse_Malformed_ExplainsWhy(string? uri, string expected)
    {
        Assert.False(SpiffeId.TryParse(uri, out var id, out var error));
        Assert.Null(id);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void TryParse_LabelOf64Characters_IsRefused()
    {
        var label = new string('a', 64);

        Assert.False(SpiffeId.TryParse($"spiffe://td/cluster/{label}/ns/default/sa/echo", out _, out var error));
        Assert.Contains("1 to 63 characters", error);
    }

    [Fact]
    public void Validate_SeveralBadParts_NamesEveryOne()
    {
        var error = new SpiffeId("td", "A", "B", "ok").Validate();

        Assert.Contains("cluster 'A'", error);
        Assert.Contains("namespace 'B'", error);
        Assert.DoesNotContain("service account", error);
    }

    [Fact]
    public void Parse_Malformed_ThrowsIdentityException()
    {
        var e = Assert.Throws<IdentityException>(() => SpiffeId.Parse("spiffe://td/cluster/x"));
        Assert.Contains("spiffe://td/cluster/x", e.Message);
    }

    [Fact]
    public void Create_BadPart_Throws()
    {
        Assert.Throws<IdentityException>(() => SpiffeId.Create("td", "west", "default", "Echo"));
        Assert.Equal("spiffe://td/cluster/west/ns/default/sa/echo", SpiffeId.Create("td", "west", "default", "echo").ToString());
    }
}
