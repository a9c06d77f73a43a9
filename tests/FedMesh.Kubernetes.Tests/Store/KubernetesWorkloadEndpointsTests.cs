using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using FedMesh.Core.Store.Kubernetes.Workloads;
using FedMesh.Kubernetes.Tests.ApiServer;
using k8s;
using WatchEventType = FedMesh.Core.Store.WatchEventType;
using static FedMesh.Kubernetes.Tests.Store.StoreFixture;

namespace FedMesh.Kubernetes.Tests.Store;

/// <summary>The endpoints of injected pods, from Services' EndpointSlices and the pods, watched on a test API server.</summary>
public sealed class KubernetesWorkloadEndpointsTests
{
    private static KubernetesWorkloadEndpoints Open(IKubernetes client) =>
        new("east", "fedmesh.local", client, new KubernetesStoreOptions { WatchTimeout = TimeSpan.FromSeconds(30), RetryBaseDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(200) });

    [Fact]
    public async Task Watch_SliceOfInjectedAndPlainPods_InjectedOnesThenReadinessAndPodDeletion()
    {
        await using var server = await StartAsync();
        using var client = server.Client();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("web-1", "10.1.0.5", "web"), "default");
        await client.CoreV1.CreateNamespacedPodAsync(Pod("web-2", "10.1.0.6", "web"), "default");
        await client.CoreV1.CreateNamespacedPodAsync(Pod("plain-1", "10.1.0.7", injected: false), "default");
        await client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(ServiceSlice("web-abc", "web", [("web-1", "10.1.0.5", true), ("web-2", "10.1.0.6", true), ("plain-1", "10.1.0.7", true)]), "default");
        await using var watch = Open(client).WatchAsync(CancellationToken.None).GetAsyncEnumerator();

        var listed = await CollectAsync(watch, [], e => e.Any(x => x.Type == WatchEventType.Synced));

        Assert.Equal(["Added web", "Synced"], listed.Select(e => e.Object is null ? "Synced" : $"{e.Type} {e.Object.Name}"));
        var web = listed[0].Object!.Spec.Endpoints;
        Assert.Equal(["10.1.0.5:15006", "10.1.0.6:15006"], web.Select(e => e.Address));
        Assert.Equal(["web-1.default", "web-2.default"], web.Select(e => e.Instance));
        Assert.All(web, e => Assert.Equal("spiffe://fedmesh.local/cluster/east/ns/default/sa/web", e.Identity));
        Assert.All(web, e => Assert.Equal(("east", "zone-a", true), (e.Cluster, e.Zone, e.Ready)));

        // The endpointslice controller marks web-2 not ready; then web-1 is deleted (before its slice is rewritten).
        await client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(ServiceSlice("web-abc", "web", [("web-1", "10.1.0.5", true), ("web-2", "10.1.0.6", false)]), "web-abc", "default");
        var notReady = await CollectAsync(watch, [], e => e.Count == 1);
        await client.CoreV1.DeleteNamespacedPodAsync("web-1", "default");
        var deleted = await CollectAsync(watch, [], e => e.Count == 1);
        await client.CoreV1.DeleteNamespacedPodAsync("web-2", "default");
        var gone = await CollectAsync(watch, [], e => e.Count == 1);

        Assert.Equal([("10.1.0.5:15006", true), ("10.1.0.6:15006", false)], notReady[0].Object!.Spec.Endpoints.Select(e => (e.Address, e.Ready)));
        Assert.Equal(["10.1.0.6:15006"], deleted[0].Object!.Spec.Endpoints.Select(e => e.Address));
        Assert.Equal((WatchEventType.Deleted, "web"), (gone[0].Type, gone[0].Object!.Name));
    }

    [Fact]
    public async Task Watch_HistoryCompactedWhileDisconnected_RelistsAndEmitsOnlyTheDifference()
    {
        await using var server = await StartAsync();
        using var client = server.Client();
        await client.CoreV1.CreateNamespacedPodAsync(Pod("web-1", "10.1.0.5"), "default");
        await client.CoreV1.CreateNamespacedPodAsync(Pod("api-1", "10.1.0.9", app: "api"), "default");
        await client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(ServiceSlice("web-abc", "web", [("web-1", "10.1.0.5", true)]), "default");
        await client.DiscoveryV1.CreateNamespacedEndpointSliceAsync(ServiceSlice("api-abc", "api", [("api-1", "10.1.0.9", true)]), "default");
        await using var watch = Open(client).WatchAsync(CancellationToken.None).GetAsyncEnumerator();
        await CollectAsync(watch, [], e => e.Any(x => x.Type == WatchEventType.Synced));

        using (server.HoldWatches())
        {
            server.EndAllWatches();
            await client.CoreV1.CreateNamespacedPodAsync(Pod("web-2", "10.1.0.6"), "default");
            await client.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(ServiceSlice("web-abc", "web", [("web-1", "10.1.0.5", true), ("web-2", "10.1.0.6", true)]), "web-abc", "default");
            server.Compact();
        }
        var seen = await CollectAsync(watch, [], e => e.Any(x => x.Object?.Spec.Endpoints.Count == 2));
        await client.CoreV1.DeleteNamespacedPodAsync("api-1", "default");
        await CollectAsync(watch, seen, e => e.Any(x => x.Type == WatchEventType.Deleted));

        // api never changed while disconnected, so the relist says nothing about it; only web grew.
        Assert.DoesNotContain(seen, e => e.Type == WatchEventType.Modified && e.Object!.Name == "api");
        Assert.Equal(["10.1.0.5:15006", "10.1.0.6:15006"], seen.Last(e => e.Object!.Name == "web").Object!.Spec.Endpoints.Select(e => e.Address));
        Assert.Equal((WatchEventType.Deleted, "api"), (seen[^1].Type, seen[^1].Object!.Name));
    }

    [Fact]
    public async Task Watch_TokenMayNotListPods_ThrowsForbiddenNamingPods()
    {
        await using var server = await StartAsync();
        server.AddToken("slices-only", new AccessRule(["list", "watch"], ["discovery.k8s.io"], ["endpointslices"]));
        using var client = server.Client("slices-only");
        await using var watch = Open(client).WatchAsync(CancellationToken.None).GetAsyncEnumerator();

        var e = await Assert.ThrowsAsync<StoreForbiddenException>(async () => await watch.MoveNextAsync().AsTask().WaitAsync(Deadline));

        Assert.Equal(403, e.StatusCode);
        Assert.Contains("cannot list resource \"pods\"", e.Message);
        Assert.Contains("grant the verb in the RBAC role", e.Message);
    }
}
