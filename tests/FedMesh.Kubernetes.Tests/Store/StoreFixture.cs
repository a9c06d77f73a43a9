using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using FedMesh.Kubernetes.Tests.ApiServer;
using k8s.Models;

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

    /// <summary>A running pod as the API server holds it; <paramref name="injected"/> gives it the label <c>fedmesh inject</c> puts on pod templates.</summary>
    public static V1Pod Pod(string name, string ip, string serviceAccount = "default", bool injected = true, string ns = "default", string app = "web") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name, NamespaceProperty = ns,
            Labels = injected ? new Dictionary<string, string> { ["app"] = app, [SidecarInjector.InjectedLabel] = "true" } : new Dictionary<string, string> { ["app"] = app },
        },
        Spec = new V1PodSpec { ServiceAccountName = serviceAccount, Containers = [new V1Container { Name = "app", Image = "app" }] },
        Status = new V1PodStatus { Phase = "Running", PodIP = ip },
    };

    /// <summary>An EndpointSlice of <paramref name="service"/> as Kubernetes' endpointslice controller writes it: one endpoint per pod.</summary>
    public static V1EndpointSlice ServiceSlice(string name, string service, IEnumerable<(string Pod, string Ip, bool Ready)> pods, string ns = "default", string zone = "zone-a") => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = name, NamespaceProperty = ns,
            Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = service, ["endpointslice.kubernetes.io/managed-by"] = "endpointslice-controller.k8s.io" },
        },
        AddressType = "IPv4",
        Endpoints = pods.Select(p => new V1Endpoint
        {
            Addresses = [p.Ip],
            Conditions = new V1EndpointConditions { Ready = p.Ready, Serving = p.Ready, Terminating = false },
            TargetRef = new V1ObjectReference { Kind = "Pod", Name = p.Pod, NamespaceProperty = ns },
            Zone = zone,
        }).ToList(),
        Ports = [new Discoveryv1EndpointPort { Name = "http", Port = 8080, Protocol = "TCP" }],
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
