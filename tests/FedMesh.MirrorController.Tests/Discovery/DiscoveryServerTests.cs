using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.MirrorController.Tests.Discovery;

public sealed class DiscoveryServerTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);
    private readonly InMemoryClusterStore _east = new("east");
    private readonly InMemoryClusterStore _west = new("west");

    private static async Task<Proto.Snapshot> NextAsync(AsyncServerStreamingCall<Proto.Snapshot> call, Func<Proto.Snapshot, bool>? until = null)
    {
        using var timeout = new CancellationTokenSource(Deadline);
        while (await call.ResponseStream.MoveNext(timeout.Token))
            if (until is null || until(call.ResponseStream.Current))
                return call.ResponseStream.Current;
        throw new InvalidOperationException("the discovery stream ended");
    }

    private static (GrpcChannel Channel, AsyncServerStreamingCall<Proto.Snapshot> Call) Watch(RunningController controller, string cluster = "east")
    {
        var channel = GrpcChannel.ForAddress(controller.GrpcAddress);
        var client = new Proto.Discovery.DiscoveryClient(channel);
        return (channel, client.Watch(new Proto.Node { Id = "test-0", Cluster = cluster, Kind = Proto.NodeKind.Proxy }));
    }

    [Fact]
    public async Task Watch_FirstSnapshotAtOnce_NewOneAfterStoreChange()
    {
        await _east.CreateAsync(Objects.Service("api", exported: true));
        await _east.CreateAsync(Objects.Endpoints("api", addresses: ["127.0.0.1:5001", "127.0.0.1:5002"]));
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));
        var (channel, call) = Watch(controller);
        using var _ = channel;
        using var __ = call;

        var first = await NextAsync(call);
        Assert.Equal("east", first.Cluster);
        Assert.Equal("fedmesh.local", first.TrustDomain);
        var api = Assert.Single(first.Services);
        Assert.True(api.Exported);
        Assert.Equal(["127.0.0.1:5001", "127.0.0.1:5002"], api.Endpoints.Select(e => e.Address));
        Assert.All(api.Endpoints, e => Assert.True(e.Healthy));
        Assert.All(api.Endpoints, e => Assert.Equal("east", e.Cluster));

        await _east.MutateAsync<Endpoints>("default", "api", e => { e!.Spec.Endpoints[1].Ready = false; return e; });

        var second = await NextAsync(call);
        Assert.NotEqual(first.Version, second.Version);
        Assert.False(second.Services.Single().Endpoints[1].Healthy);
    }

    [Fact]
    public async Task Snapshot_LinkedClustersListEveryLink_MirrorsCarryTheirOrigin()
    {
        await _west.CreateAsync(Objects.Service("api"));
        await _east.CreateAsync(Objects.Link("west"));
        await _east.CreateAsync(Objects.Link("north", mirror: false));
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));
        var (channel, call) = Watch(controller);
        using var _ = channel;
        using var __ = call;

        var snapshot = await NextAsync(call, s => s.Services.Any(x => x.Name == "api-west" && x.Endpoints.Count == 1));

        Assert.Equal(["north", "west"], snapshot.LinkedClusters);
        var mirror = snapshot.Services.Single(s => s.Name == "api-west");
        Assert.Equal(("api", "west", false), (mirror.MirrorOf, mirror.MirrorCluster, mirror.Exported));
        var gateway = mirror.Endpoints.Single();
        Assert.True(gateway.ViaGateway);
        Assert.Equal("127.0.0.1:4143", gateway.Address);
        Assert.Equal("west", gateway.Cluster);
    }

    [Fact]
    public async Task TrafficSplitAndFailover_CompileToRoutesWithMirrorNames()
    {
        await _east.CreateAsync(Objects.Service("api", exported: false));
        var split = new TrafficSplit();
        split.Metadata.Name = "api-canary";
        split.Metadata.Namespace = "default";
        split.Spec.Service = "api";
        split.Spec.Backends.Add(new SplitBackend { Service = "api", Cluster = "east", Weight = 90 });
        split.Spec.Backends.Add(new SplitBackend { Service = "api", Cluster = "west", Weight = 10 });
        await _east.CreateAsync(split);
        var failover = new FailoverPolicy();
        failover.Metadata.Name = "api";
        failover.Metadata.Namespace = "default";
        failover.Spec.Service = "api";
        failover.Spec.Targets.Add(new FailoverTarget { Cluster = "east" });
        failover.Spec.Targets.Add(new FailoverTarget { Cluster = "west" });
        failover.Spec.Trigger = new FailoverTrigger { MinHealthyPercent = 60 };
        await _east.CreateAsync(failover);
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));
        var (channel, call) = Watch(controller);
        using var _ = channel;
        using var __ = call;

        var route = (await NextAsync(call)).Services.Single(s => s.Name == "api").Route;

        Assert.Equal([("api", "east", 90u), ("api-west", "west", 10u)], route.Backends.Select(b => (b.Service, b.Cluster, b.Weight)));
        Assert.Equal(["api", "api-west"], route.Failover.Targets.Select(t => t.Service));
        Assert.Equal(60u, route.Failover.MinHealthyPercent);
        Assert.Equal(0u, route.Failover.Active);
    }

    [Fact]
    public async Task Watch_NodeOfAnotherCluster_Refused()
    {
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));
        var (channel, call) = Watch(controller, cluster: "west");
        using var _ = channel;
        using var __ = call;

        var error = await Assert.ThrowsAsync<RpcException>(() => NextAsync(call));
        Assert.Equal(StatusCode.FailedPrecondition, error.StatusCode);
        Assert.Contains("serves cluster 'east'", error.Status.Detail);
    }

    [Fact]
    public async Task ManyWatchers_AllGetEveryChange_WhileOneNeverReads()
    {
        await using var controller = await RunningController.StartAsync(_east, new DictionaryTargetResolver(_west));
        var stalled = Watch(controller); // opened and never read
        var watchers = Enumerable.Range(0, 5).Select(_ => Watch(controller)).ToList();
        try
        {
            foreach (var (_, call) in watchers)
                await NextAsync(call);
            for (var i = 0; i < 3; i++)
            {
                await _east.CreateAsync(Objects.Service($"svc-{i}", exported: false));
                foreach (var (_, call) in watchers)
                    await NextAsync(call, s => s.Services.Any(x => x.Name == $"svc-{i}"));
            }
        }
        finally
        {
            foreach (var (channel, call) in watchers.Append(stalled))
            {
                call.Dispose();
                channel.Dispose();
            }
        }
    }
}
