using FedMesh.Linker.Local;

namespace FedMesh.Linker.Tests.Local;

public sealed class DataPlaneEnvironmentTests
{
    [Fact]
    public void Apply_Proxy_GetsInlineCompletionsAndSmallGen0()
    {
        var environment = new Dictionary<string, string?>();
        DataPlaneEnvironment.Apply(["component", "proxy", "--Cluster", "east"], environment);
        Assert.Equal("1", environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"]);
        Assert.Equal("400000", environment["DOTNET_GCgen0size"]);
        Assert.Equal("0", environment["DOTNET_gcConcurrent"]);
        Assert.False(environment.ContainsKey("DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"));
    }

    [Fact]
    public void Apply_Gateway_GetsOneSocketEngineThreadPerCore()
    {
        var environment = new Dictionary<string, string?>();
        DataPlaneEnvironment.Apply(["component", "gateway"], environment);
        Assert.Equal("1", environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"]);
        Assert.Equal(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
            environment["DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"]);
    }

    [Theory]
    [InlineData("component", "controller")]
    [InlineData("component", "echo")]
    [InlineData("supervise", "--home")]
    public void Apply_OtherParts_LeftAlone(string first, string second)
    {
        var environment = new Dictionary<string, string?>();
        DataPlaneEnvironment.Apply([first, second], environment);
        Assert.Empty(environment);
    }
}
