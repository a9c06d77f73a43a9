using FedMesh.Gateway.Routing;

namespace FedMesh.Gateway.Tests;

public sealed class HostNameTests
{
    [Theory]
    [InlineData("echo.default", "echo.default")]
    [InlineData("echo.default:7001", "echo.default")]
    [InlineData("echo.default.:7001", "echo.default")]
    [InlineData("echo", "echo")]
    [InlineData("[::1]:7001", "[::1]")]
    [InlineData("[::1]", "[::1]")]
    public void ServicePart_StripsPortAndTrailingDot(string host, string expected)
    {
        Assert.Equal(expected, HostName.ServicePart(host).ToString());
    }
}
