using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Kubernetes.Tests.ApiServer;
using FedMesh.Kubernetes.Tests.Cli;
using FedMesh.Kubernetes.Tests.Store;
using FedMesh.Tests.Shared;
using k8s;

namespace FedMesh.Kubernetes.Tests.Federation;

/// <summary><c>fedmesh install --apply</c> and <c>uninstall</c> against a test API server, through the kubeconfig.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class InstallApplyCliTests
{
    [Fact]
    public async Task InstallApply_TwiceThenUninstall_CreatesThenConfiguresThenRemovesEverything()
    {
        await using var server = await FakeApiServer.StartAsync();
        using var home = new TempHome();
        home.WriteKubeconfig(FakeApiServer.AdminToken, ("kind-east", server.Url));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);
        var client = server.Client();

        var first = await CliRun.OkAsync("install", "--cluster", "east", "--apply", "--home", home.Path);
        var firstPort = (await client.CoreV1.ReadNamespacedServiceAsync(InstallDefaults.GatewayName, WellKnown.SystemNamespace)).Spec.Ports[0].Port;
        var second = await CliRun.OkAsync("install", "--cluster", "east", "--apply", "--gateway-port", "14143", "--home", home.Path);

        Assert.Contains("customresourcedefinition/links.fedmesh.io created in cluster east", first.Out);
        Assert.Contains("deployment/fedmesh-controller created in cluster east", first.Out);
        Assert.Contains("service/fedmesh-gateway configured in cluster east", second.Out);
        Assert.Equal(InstallDefaults.GatewayPort, firstPort);
        Assert.Equal(14143, (await client.CoreV1.ReadNamespacedServiceAsync(InstallDefaults.GatewayName, WellKnown.SystemNamespace)).Spec.Ports[0].Port);
        Assert.Equal(3, (await client.ApiextensionsV1.ListCustomResourceDefinitionAsync()).Items.Count);

        var removed = await CliRun.OkAsync("uninstall", "--cluster", "east", "--home", home.Path);
        var again = await CliRun.OkAsync("uninstall", "--cluster", "east", "--home", home.Path);

        Assert.Contains("namespace/fedmesh-system deleted from cluster east", removed.Out);
        Assert.Contains("namespace/fedmesh-system not found in cluster east", again.Out);
        Assert.Empty((await client.ApiextensionsV1.ListCustomResourceDefinitionAsync()).Items);
        Assert.Empty((await client.CoreV1.ListNamespaceAsync()).Items);
        Assert.Empty((await client.RbacAuthorizationV1.ListClusterRoleAsync()).Items);
        Assert.Empty((await client.AppsV1.ListDeploymentForAllNamespacesAsync()).Items);
    }

    [Fact]
    public async Task Uninstall_KeepCrds_RemovesTheComponentsAndKeepsTheCrdsTheirResourcesAndTheNamespace()
    {
        await using var server = await FakeApiServer.StartAsync();
        using var home = new TempHome();
        home.WriteKubeconfig(FakeApiServer.AdminToken, ("kind-east", server.Url));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);
        await CliRun.OkAsync("install", "--cluster", "east", "--apply", "--home", home.Path);
        using var store = StoreFixture.OpenStore(server);
        await store.CreateAsync(StoreFixture.Link("west"));
        var split = ValidPolicies.Split();
        split.Metadata.Namespace = "default";
        await store.CreateAsync(split);
        var client = server.Client();

        var kept = await CliRun.OkAsync("uninstall", "--cluster", "east", "--keep-crds", "--home", home.Path);

        Assert.Contains("deployment/fedmesh-controller deleted from cluster east", kept.Out);
        Assert.Contains("clusterrole/fedmesh-controller deleted from cluster east", kept.Out);
        Assert.DoesNotContain("customresourcedefinition/", kept.Out);
        Assert.DoesNotContain("namespace/", kept.Out);
        Assert.Equal(3, (await client.ApiextensionsV1.ListCustomResourceDefinitionAsync()).Items.Count);
        Assert.Equal(["west"], server.Objects.All(CrdCatalog.Group, "links").Select(l => l["metadata"]!["name"]!.GetValue<string>()));
        Assert.Single(server.Objects.All(CrdCatalog.Group, "trafficsplits"));
        Assert.Equal([WellKnown.SystemNamespace], (await client.CoreV1.ListNamespaceAsync()).Items.Select(n => n.Metadata.Name));
        Assert.Empty((await client.AppsV1.ListDeploymentForAllNamespacesAsync()).Items);
        Assert.Empty((await client.CoreV1.ListNamespacedServiceAsync(WellKnown.SystemNamespace)).Items);
        Assert.Empty((await client.CoreV1.ListNamespacedSecretAsync(WellKnown.SystemNamespace)).Items);
        Assert.Empty((await client.CoreV1.ListNamespacedServiceAccountAsync(WellKnown.SystemNamespace)).Items);
        Assert.Empty((await client.RbacAuthorizationV1.ListClusterRoleAsync()).Items);
        Assert.Empty((await client.RbacAuthorizationV1.ListClusterRoleBindingAsync()).Items);
        Assert.Empty((await client.RbacAuthorizationV1.ListNamespacedRoleAsync(WellKnown.SystemNamespace)).Items);

        // Installing again runs beside the kept resources; a full uninstall then takes them along with the CRDs.
        await CliRun.OkAsync("install", "--cluster", "east", "--apply", "--home", home.Path);
        Assert.Equal(2, (await client.AppsV1.ListDeploymentForAllNamespacesAsync()).Items.Count);
        await CliRun.OkAsync("uninstall", "--cluster", "east", "--home", home.Path);
        Assert.Empty(server.Objects.All(CrdCatalog.Group, "links"));
        Assert.Empty(server.Objects.All(CrdCatalog.Group, "trafficsplits"));
        Assert.Empty((await client.CoreV1.ListNamespaceAsync()).Items);
    }

    [Fact]
    public async Task InstallApply_UnreachableApiServer_FailsWithWhatToCheck()
    {
        using var home = new TempHome();
        home.WriteKubeconfig(FakeApiServer.AdminToken, ("kind-east", "http://127.0.0.1:9"));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);

        var result = await CliRun.RunAsync("install", "--cluster", "east", "--apply", "--home", home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("check the cluster's context with 'kubectl --context CONTEXT get ns'", result.Error);
    }
}
