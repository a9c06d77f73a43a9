using FedMesh.Core.Forwarding;
using FedMesh.Core.Identity;

namespace FedMesh.Core.Tests.Forwarding;

public sealed class UpstreamTlsNameTests
{
    private const string Gateway = "spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway";

    [Theory]
    [InlineData("10.0.0.5")]
    [InlineData("[fe80::1]")]
    public void For_IpAddress_IsASyntheticDnsNameUnderInvalid(string host)
    {
        var name = UpstreamTlsName.For(host, isDnsName: false, 8443, Gateway)!;

        Assert.EndsWith(".session.fedmesh.invalid", name);
        Assert.True(DnsNames.IsName(name), $"'{name}' is a DNS name (SNI carries it)");
        Assert.False(System.Net.IPAddress.TryParse(name, out _));
    }

    [Fact]
    public void For_DiffersByAddressPortAndExpectedIdentity()
    {
        var name = UpstreamTlsName.For("10.0.0.5", false, 8443, Gateway);

        Assert.Equal(name, UpstreamTlsName.For("10.0.0.5", false, 8443, Gateway));
        Assert.NotEqual(name, UpstreamTlsName.For("10.0.0.6", false, 8443, Gateway));
        Assert.NotEqual(name, UpstreamTlsName.For("10.0.0.5", false, 8444, Gateway));
        Assert.NotEqual(name, UpstreamTlsName.For("10.0.0.5", false, 8443, Gateway.Replace("west", "north")));
    }

    [Fact]
    public void For_IsNotAPlainHashOfItsInputs()
    {
        // SNI is sent in the clear and a SPIFFE id is guessable: a plain hash would let an observer test which
        // identity the client expects at that address.
        var name = UpstreamTlsName.For("10.0.0.5", false, 8443, Gateway)!;
        var plain = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"10.0.0.5\n8443\n{Gateway}"));

        Assert.False(name.StartsWith(Convert.ToHexStringLower(plain.AsSpan(0, 16)), StringComparison.Ordinal));
    }

    [Fact]
    public void For_DnsName_IsKeptForSni()
    {
        Assert.Equal("gateway.west.example.com", UpstreamTlsName.For("gateway.west.example.com", isDnsName: true, 443, Gateway));
    }

    [Fact]
    public void For_IpAddressWithoutExpectedIdentity_NoName()
    {
        Assert.Null(UpstreamTlsName.For("10.0.0.5", isDnsName: false, 8443, expectedIdentity: null));
    }
}
