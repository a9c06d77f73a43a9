using FedMesh.Linker.Local;

namespace FedMesh.Linker.Tests.Local;

public sealed class LaunchCommandTests : IDisposable
{
    private static readonly string[] ProxyOptions = ["--Cluster", "east", "--Instance", "echo-east-0", "--Outbound", "127.0.0.1:41001"];
    private static readonly string[] ProxyArgs = ["component", "proxy", .. ProxyOptions];

    private readonly string _dir = Directory.CreateTempSubdirectory("fedmesh-launch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Touch(string name)
    {
        var file = Path.Combine(_dir, name);
        File.WriteAllText(file, "");
        return file;
    }

    [Fact]
    public void Resolve_ProxyWithNativeDataPlaneNextToFedmesh_RunsItWithTheArgsAfterComponent()
    {
        Touch("fedmesh");
        var native = Touch("fedmesh-dataplane");

        var (file, arguments) = LaunchCommand.Resolve(ProxyArgs, _dir, "/usr/bin/dotnet");

        Assert.Equal(native, file);
        Assert.Equal(["proxy", .. ProxyOptions], arguments);
    }

    [Fact]
    public void Resolve_GatewayWithNativeDataPlaneNextToFedmesh_RunsItAsGateway()
    {
        Touch("fedmesh");
        var native = Touch("fedmesh-dataplane");

        var (file, arguments) = LaunchCommand.Resolve(["component", "gateway", "--Cluster", "east"], _dir, "/usr/bin/dotnet");

        Assert.Equal(native, file);
        Assert.Equal(["gateway", "--Cluster", "east"], arguments);
    }

    [Fact]
    public void Resolve_ProxyWithoutNativeDataPlane_RunsFedmeshComponentProxy()
    {
        var apphost = Touch("fedmesh");

        var (file, arguments) = LaunchCommand.Resolve(ProxyArgs, _dir, "/usr/bin/dotnet");

        Assert.Equal(apphost, file);
        Assert.Equal(ProxyArgs, arguments);
    }

    [Theory]
    [InlineData("component", "controller")]
    [InlineData("component", "echo")]
    [InlineData("supervise", "--home")]
    public void Resolve_OtherPartsWithNativeDataPlaneThere_RunFedmeshUnchanged(string first, string second)
    {
        var apphost = Touch("fedmesh");
        Touch("fedmesh-dataplane");
        string[] args = [first, second, "--Cluster", "east"];

        var (file, arguments) = LaunchCommand.Resolve(args, _dir, "/usr/bin/dotnet");

        Assert.Equal(apphost, file);
        Assert.Equal(args, arguments);
    }

    [Fact]
    public void Resolve_NoApphost_RunsTheDllWithTheDotnetHost()
    {
        var (file, arguments) = LaunchCommand.Resolve(ProxyArgs, _dir, "/usr/bin/dotnet");

        string[] expected = [Path.Combine(_dir, "fedmesh.dll"), .. ProxyArgs];
        Assert.Equal("/usr/bin/dotnet", file);
        Assert.Equal(expected, arguments);
    }

    [Theory]
    [InlineData("/opt/fedmesh/fedmesh-dataplane proxy --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41001")]
    [InlineData("fedmesh-dataplane proxy --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41001")]
    [InlineData("/usr/bin/dotnet /opt/fedmesh/fedmesh.dll component proxy --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41001")]
    [InlineData("/opt/fedmesh/fedmesh component proxy --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41001")]
    public void Describes_ProxyRunningNativeOrInFedmesh_True(string commandLine)
        => Assert.True(LaunchCommand.Describes(commandLine, ProxyArgs));

    [Theory]
    [InlineData("/opt/fedmesh/fedmesh-dataplane proxy --Cluster west --Instance echo-west-0 --Outbound 127.0.0.1:41001")]
    [InlineData("/opt/fedmesh/fedmesh-dataplane proxy --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41002")]
    [InlineData("/opt/fedmesh/fedmesh-dataplane gateway --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41001")]
    [InlineData("/opt/other/my-fedmesh-dataplane proxy --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41001")]
    [InlineData("/opt/fedmesh/fedmesh component gateway --Cluster east --Instance echo-east-0 --Outbound 127.0.0.1:41001")]
    [InlineData("sleep 60")]
    [InlineData("")]
    public void Describes_AnotherProcessAtTheRecordedPid_False(string commandLine)
        => Assert.False(LaunchCommand.Describes(commandLine, ProxyArgs));

    [Fact]
    public void Describes_GatewayNativeOrInFedmesh_TrueButNotAsAProxyOrController()
    {
        string[] gateway = ["component", "gateway", "--Cluster", "east"];
        string[] controller = ["component", "controller", "--Cluster", "east"];

        Assert.True(LaunchCommand.Describes("/opt/fedmesh/fedmesh component gateway --Cluster east", gateway));
        Assert.True(LaunchCommand.Describes("/opt/fedmesh/fedmesh-dataplane gateway --Cluster east", gateway));
        Assert.False(LaunchCommand.Describes("/opt/fedmesh/fedmesh-dataplane proxy --Cluster east", gateway));
        // Only the data plane runs natively: a controller's options after fedmesh-dataplane are not the controller.
        Assert.False(LaunchCommand.Describes("/opt/fedmesh/fedmesh-dataplane controller --Cluster east", controller));
    }
}
