using FedMesh.Core.Resources;
using FedMesh.MirrorController.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.MirrorController.Tests.Discovery;

/// <summary>Endpoints from a workload endpoint source (injected pods on Kubernetes) in the discovery snapshot.</summary>
public sealed class WorkloadEndpointsDiscoveryTests
{
    private readonly InMemoryClusterStore _east = new("east");

    [Fact]
    public async Task Snapshot_WorkloadSourceEndpoints_JoinTheStoredOnesAndLeaveWhenTheSourceDeletesThem()
    {
        await _east.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Service("web"));
        await _east.CreateAsync(Objects.Endpoints("api", addresses: ["127.0.0.1:5001"]));
        var workloads = new ChannelWorkloadSource();
        var web = Objects.Endpoints("web", addresses: ["10.1.0.5:15006"]);
        workloads.Add(web);
        workloads.Add(Objects.Endpoints("api", addresses: ["10.1.0.9:15006"]));
        workloads.Synced();
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(), workloads: workloads);
        using var channel = GrpcChannel.ForAddress(controller.GrpcAddress);
        using var call = new Proto.Discovery.DiscoveryClient(channel).Watch(new Proto.Node { Id = "test-0", Cluster = "east", Kind = Proto.NodeKind.Proxy });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        var first = call.ResponseStream.Current;
        Assert.Equal(["10.1.0.9:15006", "127.0.0.1:5001"], Addresses(first, "api"));
        Assert.Equal(["10.1.0.5:15006"], Addresses(first, "web"));

        workloads.Delete(web);

        Assert.True(await call.ResponseStream.MoveNext(timeout.Token));
        Assert.Empty(Addresses(call.ResponseStream.Current, "web"));
        Assert.Equal(["10.1.0.9:15006", "127.0.0.1:5001"], Addresses(call.ResponseStream.Current, "api"));
        Assert.Single((await _east.GetAsync<Endpoints>("default", "api"))!.Spec.Endpoints); // the store is not written
    }

    private static List<string> Addresses(Proto.Snapshot snapshot, string service) =>
        snapshot.Services.Single(s => s.Name == service).Endpoints.Select(e => e.Address).ToList();
}
