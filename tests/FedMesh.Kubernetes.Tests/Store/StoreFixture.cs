using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using FedMesh.Kubernetes.Tests.ApiServer;

namespace FedMesh.Kubernetes.Tests.Store;

/// <summary>Builders and bounded waits shared by the store tests.</summary>
internal static class StoreFixture
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    public static async Task<FakeApiServer> StartAsync(int historyLimit = 1000)
    {
        var server = await FakeApiServer.StartAsync(historyLimit);
        server.InstallCrds(CrdCatalog.All());
        return server;
    }

    public static KubernetesClusterStore OpenStore(FakeApiServer server, string token = FakeApiServer.AdminToken, string cluster = "east") =>
        new(cluster, server.Client(token), new KubernetesStoreOptions { WatchTimeout = TimeSpan.FromSeconds(30), RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(200) }, ownsClient: true);

    public static Service Svc(string name, bool exported = false, string ns = "default", int port = 8080) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = ns, Labels = exported ? new() { [WellKnown.ExportedLabel] = "true" } : null },
        Spec = new ServiceSpec { Ports = [new ServicePort { Name = "http", Port = port, TargetPort = 8080, Protocol = "TCP" }], Selector = new() { ["app"] = name } },
    };

    public static Link Link(string target) => new()
    {
        Metadata = new ObjectMeta { Name = target, Namespace = WellKnown.SystemNamespace },
        Spec = new LinkSpec
        {
            TargetCluster = target, GatewayAddress = "10.0.0.9:4143",
            GatewayIdentity = $"spiffe://fedmesh.local/cluster/{target}/ns/fedmesh-system/sa/gateway", Probe = new ProbeSpec(),
        },
    };

    /// <summary>Reads watch events until <paramref name="done"/> says enough, or fails after <see cref="Deadline"/>.</summary>
    public static async Task<List<WatchEvent<T>>> CollectAsync<T>(IAsyncEnumerator<WatchEvent<T>> watch, List<WatchEvent<T>> into, Func<List<WatchEvent<T>>, bool> done) where T : Resource
    {
        using var deadline = new CancellationTokenSource(Deadline);
        while (!done(into))
        {
            var next = watch.MoveNextAsync().AsTask();
            var finished = await Task.WhenAny(next, Task.Delay(Timeout.InfiniteTimeSpan, deadline.Token).ContinueWith(_ => false, TaskScheduler.Default));
            if (finished != next) throw new TimeoutException($"watch did not deliver the expected events within {Deadline.TotalSeconds} s; got: {Describe(into)}");
            if (!await next) throw new InvalidOperationException($"watch ended early; got: {Describe(into)}");
            into.Add(watch.Current);
        }
        return into;
    }

    public static string Describe<T>(IEnumerable<WatchEvent<T>> events) where T : Resource =>
        string.Join(", ", events.Select(e => e.Object is null ? e.Type.ToString() : $"{e.Type} {e.Object.Name}@{e.Object.Metadata.ResourceVersion}"));
}
