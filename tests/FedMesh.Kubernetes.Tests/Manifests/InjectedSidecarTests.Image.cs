using System.Text.Json;
using FedMesh.Core.Kubernetes;

namespace FedMesh.Kubernetes.Tests.Manifests;

/// <summary>The injected containers start what the proxy image (deploy/docker/proxy.Dockerfile) holds.</summary>
public sealed partial class InjectedSidecarTests
{
    [Fact]
    public void InjectedEcho_SidecarKeepsTheImageEntrypoint_TheNativeDataPlaneTakingProxyOptionsOnly()
    {
        var image = FinalStage(ProxyDockerfile());
        var entrypoint = image.Last(l => l.StartsWith("ENTRYPOINT ", StringComparison.Ordinal))["ENTRYPOINT ".Length..];
        Assert.Equal(["/app/fedmesh-dataplane", "proxy"], JsonSerializer.Deserialize<string[]>(entrypoint)!);

        var proxy = Container(Pod(Inject(Example())), SidecarInjector.ProxyContainer);
        // No command: the entrypoint (`fedmesh-dataplane proxy`) runs, and the args are the proxy's options.
        Assert.Null(proxy["command"]);
        Assert.Equal("--Cluster", proxy["args"]![0]!.GetValue<string>());
    }

    [Fact]
    public void InjectedEcho_InitContainerRunsAShellAndIptables_WhichTheProxyImageHas()
    {
        var image = FinalStage(ProxyDockerfile());
        var init = Container(Pod(Inject(Example())), SidecarInjector.InitContainer);

        Assert.Equal("/bin/sh", init["command"]![0]!.GetValue<string>());
        Assert.Contains("iptables -t nat", init["args"]![0]!.GetValue<string>());
        // runtime-deps is a Linux distribution with a shell; iptables is added on top.
        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/runtime-deps:", image[0]);
        Assert.Contains(image, l => l.StartsWith("RUN ", StringComparison.Ordinal) && l.Contains("install", StringComparison.Ordinal) && l.Contains(" iptables", StringComparison.Ordinal));
    }

    private static string[] ProxyDockerfile() =>
        File.ReadAllLines(Path.Combine(Schema.CrdSchemaTests.FindRepoRoot(), "deploy", "docker", "proxy.Dockerfile"));

    /// <summary>The lines of the image that ships: from the last FROM on.</summary>
    private static string[] FinalStage(string[] dockerfile) =>
        dockerfile[Array.FindLastIndex(dockerfile, l => l.StartsWith("FROM ", StringComparison.Ordinal))..];
}
