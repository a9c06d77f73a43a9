using FedMesh.Core.Resources;
using FedMesh.Core.Store.Local;
using FedMesh.Linker;
using FedMesh.Linker.Commands;

namespace FedMesh.Linker.Tests.Commands;

/// <summary>
/// What <c>fedmesh link</c> waits for before it returns: a mirror of every exported service, its Endpoints included
/// (the mirror controller writes the Service first, and a request sent as soon as link returns needs the Endpoints).
/// </summary>
public sealed class LinkWaitTests : IDisposable
{
    private readonly string _home = Directory.CreateTempSubdirectory("fedmesh-linkwait-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task WaitMirrors_ServiceMirroredWithoutEndpoints_IsNotDoneUntilTheEndpointsAreWritten()
    {
        using var west = new LocalClusterStore("west", Path.Combine(_home, "west"));
        using var east = new LocalClusterStore("east", Path.Combine(_home, "east"));
        await west.CreateAsync(Service("web", new() { [WellKnown.ExportedLabel] = "true" }));
        await east.CreateAsync(Service("web-west", Mirror()));

        var early = await Assert.ThrowsAsync<CliException>(() =>
            LinkCommands.WaitMirrorsAsync(east, west, "east", "west", present: true, TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Contains("east has not mirrored west's services", early.Message);

        var waiting = LinkCommands.WaitMirrorsAsync(east, west, "east", "west", present: true, TimeSpan.FromSeconds(20), CancellationToken.None);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);
        var endpoints = new Endpoints { Metadata = new ObjectMeta { Name = "web-west", Namespace = "default", Labels = Mirror() } };
        endpoints.Spec.Endpoints.Add(new EndpointEntry { Address = "127.0.0.1:4143", Cluster = "west", ViaGateway = true, Ready = true, Weight = 1 });
        await east.CreateAsync(endpoints);
        await waiting.WaitAsync(TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task WaitMirrors_Unlinking_IsDoneWhenNoMirrorServiceIsLeft()
    {
        using var west = new LocalClusterStore("west", Path.Combine(_home, "west"));
        using var east = new LocalClusterStore("east", Path.Combine(_home, "east"));
        await west.CreateAsync(Service("web", new() { [WellKnown.ExportedLabel] = "true" }));
        await east.CreateAsync(Service("other", new() { ["app"] = "other" })); // not a mirror: does not count

        await LinkCommands.WaitMirrorsAsync(east, west, "east", "west", present: false, TimeSpan.FromSeconds(5), CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(10));
    }

    private static Dictionary<string, string> Mirror() => new() { [WellKnown.MirrorOfLabel] = "web", [WellKnown.MirrorClusterLabel] = "west" };

    private static Service Service(string name, Dictionary<string, string> labels) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = "default", Labels = labels },
        Spec = new ServiceSpec { Ports = [new ServicePort { Name = "http", Port = 80, Protocol = "TCP" }] },
    };
}
