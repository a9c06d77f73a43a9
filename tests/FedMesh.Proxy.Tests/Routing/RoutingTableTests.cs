using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.Tests.Routing;

public sealed class RoutingTableTests
{
    [Theory]
    [InlineData("echo", "echo")]
    [InlineData("echo:80", "echo")]
    [InlineData("echo.default.svc.cluster.local.", "echo.default.svc.cluster.local")]
    [InlineData("echo.default.svc.cluster.local.:8080", "echo.default.svc.cluster.local")]
    [InlineData("[::1]:80", "[::1]:80")]
    [InlineData("", "")]
    public void HostOf_StripsPortAndRootDot(string authority, string expected)
        => Assert.Equal(expected, RoutingTable.HostOf(authority).ToString());

    [Fact]
    public void Empty_FindsNothing()
    {
        Assert.False(RoutingTable.Empty.TryFind("echo", out var route));
        Assert.Null(route);
        Assert.Equal("(none)", RoutingTable.Empty.KnownServices);
    }
}
