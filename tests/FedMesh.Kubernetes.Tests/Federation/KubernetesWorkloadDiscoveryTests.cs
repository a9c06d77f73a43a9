using FedMesh.Core.Resources;
using FedMesh.Kubernetes.Tests.Cli;
using k8s;
using static FedMesh.Kubernetes.Tests.Federation.KubernetesFederation;
using static FedMesh.Kubernetes.Tests.Store.StoreFixture;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Kubernetes.Tests.Federation;

/// <summary>
/// The controller finds injected pods through the EndpointSlices Kubernetes keeps for their Service and the pods
/// themselves, with the RBAC <c>install</c> grants it, and serves them to the cluster's gateway and proxies.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class KubernetesWorkloadDiscoveryTests
{
    private const string WebIdentity = "spiffe://fedmesh.local/cluster/b/ns/default/sa/web";

    [Fact]
    public async Task Discovery_InjectedPodsBehindAService_AreEndpointsOnTheSidecarPortThenLeaveWhenNotReadyOrDeleted()
    {
        await using var federation = await StartAsync();
        var admin = federation.B.Client();
        await federation.Store("b").CreateAsync(Svc("web"));
        await admin.CoreV1.CreateNamespacedPodAsync(Pod("web-1", "10.2.0.5", "web"), "default");
        await admin.CoreV1.CreateNamespacedPodAsync(Pod("web-2", "10.2.0.6", "web"), "default");
        await admin.CoreV1.CreateNamespacedPodAsync(Pod("web-plain", "10.2.0.7", injected: false), "default");
        await admin.DiscoveryV1.CreateNamespacedEndpointSliceAsync(ServiceSlice("web-7xk2p", "web", [("web-1", "10.2.0.5", true), ("web-2", "10.2.0.6", true), ("web-plain", "10.2.0.7", true)]), "default");
        await federation.StartControllerAsync("b");
        await using var discovery = await federation.GatewayDiscoveryAsync("b");

        var listed = await SnapshotAsync(discovery, s => Web(s).Count == 2, "web's two injected pods in b's snapshot");

        Assert.Equal(["10.2.0.5:15006", "10.2.0.6:15006"], Web(listed).Select(e => e.Address));
        Assert.Equal(["web-1.default", "web-2.default"], Web(listed).Select(e => e.Instance));
        Assert.All(Web(listed), e => Assert.Equal((WebIdentity, "b", "zone-a", true, false), (e.Identity, e.Cluster, e.Zone, e.Healthy, e.ViaGateway)));

        // Kubernetes marks web-2 not ready (its sidecar's /ready failed): it stays listed, unhealthy, so no traffic goes there.
        await admin.DiscoveryV1.ReplaceNamespacedEndpointSliceAsync(ServiceSlice("web-7xk2p", "web", [("web-1", "10.2.0.5", true), ("web-2", "10.2.0.6", false), ("web-plain", "10.2.0.7", true)]), "web-7xk2p", "default");
        var notReady = await SnapshotAsync(discovery, s => Web(s).Any(e => !e.Healthy), "web-2 unhealthy after its slice endpoint became not ready");
        Assert.Equal([("10.2.0.5:15006", true), ("10.2.0.6:15006", false)], Web(notReady).Select(e => (e.Address, e.Healthy)));

        // web-1 is deleted: it is gone at once, before the endpointslice controller rewrites the slice.
        await admin.CoreV1.DeleteNamespacedPodAsync("web-1", "default");
        var deleted = await SnapshotAsync(discovery, s => Web(s).Count == 1, "web-1 gone after its pod was deleted");
        Assert.Equal("10.2.0.6:15006", Assert.Single(Web(deleted)).Address);
        Assert.Empty(await federation.Store("b").ListAsync<Endpoints>()); // nothing is written to the store
    }

    [Fact]
    public async Task Link_ExportedServiceWithInjectedPods_MirrorPointsAtTheGatewayWhichKnowsThePods()
    {
        await using var federation = await StartAsync();
        var admin = federation.B.Client();
        await federation.Store("b").CreateAsync(Svc("web", exported: true));
        await admin.CoreV1.CreateNamespacedPodAsync(Pod("web-1", "10.2.0.5", "web"), "default");
        await admin.DiscoveryV1.CreateNamespacedEndpointSliceAsync(ServiceSlice("web-7xk2p", "web", [("web-1", "10.2.0.5", true)]), "default");
        await federation.StartControllerAsync("a");
        await federation.StartControllerAsync("b");

        var linked = await federation.CliAsync("link", "a", "b", "--timeout", "20");

        Assert.True(linked.ExitCode == 0, linked.Error + linked.Out);
        var mirror = Assert.Single((await federation.Store("a").GetAsync<Endpoints>("default", "web-b"))!.Spec.Endpoints);
        Assert.Equal(("10.0.0.2:4143", true, "b"), (mirror.Address, mirror.ViaGateway, mirror.Cluster));
        await using var gateway = await federation.GatewayDiscoveryAsync("b");
        var snapshot = await SnapshotAsync(gateway, s => Web(s).Count == 1, "web-1 in the snapshot b's gateway routes by");
        var web = snapshot.Services.Single(s => s.Name == "web");
        Assert.True(web.Exported);
        var pod = Assert.Single(web.Endpoints);
        Assert.Equal(("10.2.0.5:15006", WebIdentity, "web-1.default", true), (pod.Address, pod.Identity, pod.Instance, pod.Healthy));
    }

    private static List<Proto.Endpoint> Web(Proto.Snapshot snapshot) =>
        snapshot.Services.FirstOrDefault(s => s.Name == "web" && s.Namespace == "default")?.Endpoints.ToList() ?? [];
}
