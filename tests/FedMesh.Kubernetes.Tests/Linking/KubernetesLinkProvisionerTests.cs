using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using k8s;
using static FedMesh.Kubernetes.Tests.Store.StoreFixture;

namespace FedMesh.Kubernetes.Tests.Linking;

/// <summary>
/// Two test API servers as clusters a and b: the provisioner on its own, with mirroring done at the store
/// level (b read through the link's own credentials). The real controllers and the CLI are exercised in
/// <see cref="Federation.KubernetesLinkCliTests"/>.
/// </summary>
public sealed class KubernetesLinkProvisionerTests
{
    private static KubernetesLinkRequest Request(string bUrl) => new("a", "b", bUrl, "", "10.0.0.9:4143", "spiffe://fedmesh.local/cluster/b/ns/fedmesh-system/sa/gateway");

    [Fact]
    public async Task Link_TwoClusters_CreatesLeastPrivilegeCredentialsAndTheLink()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        var linker = new KubernetesLinkProvisioner(a.Client(), b.Client(), TimeProvider.System);

        var link = await linker.LinkAsync(Request(b.Url), CancellationToken.None);

        Assert.Equal(LinkCredentials.SecretName("b"), link.Spec.CredentialsSecret);
        var role = await b.Client().RbacAuthorizationV1.ReadClusterRoleAsync("fedmesh-link-a");
        Assert.All(role.Rules, r => Assert.Equal(["get", "list", "watch"], r.Verbs));
        Assert.Equal(["services", "endpointslices"], role.Rules.SelectMany(r => r.Resources));
        using var target = await LinkCredentials.OpenTargetStoreAsync(a.Client(), link);
        Assert.Empty(await target.ListAsync<Service>());
        var forbidden = await Assert.ThrowsAsync<StoreForbiddenException>(() => target.ListAsync<Link>());
        Assert.Contains("system:serviceaccount:fedmesh-system:fedmesh-link-a", forbidden.Message);
    }

    [Fact]
    public async Task Link_ThenMirrorExportedThenUnexportAndUnlink_CleansUpEverything()
    {
        await using var a = await StartAsync();
        await using var b = await StartAsync();
        using var storeA = OpenStore(a, cluster: "a");
        using var storeB = OpenStore(b, cluster: "b");
        await storeB.CreateAsync(Svc("web", exported: true));
        await storeB.CreateAsync(Svc("internal"));
        var linker = new KubernetesLinkProvisioner(a.Client(), b.Client(), TimeProvider.System);
        var link = await linker.LinkAsync(Request(b.Url), CancellationToken.None);

        using var target = await LinkCredentials.OpenTargetStoreAsync(a.Client(), link);
        await MirrorAsync(target, storeA, link);
        Assert.Equal(["web-b"], (await storeA.ListAsync<Service>()).Select(s => s.Name));
        var endpoints = Assert.Single(await storeA.ListAsync<Endpoints>());
        Assert.True(Assert.Single(endpoints.Spec.Endpoints).ViaGateway);

        await storeB.MutateAsync<Service>("default", "web", s => { s!.Metadata.Labels!.Remove(WellKnown.ExportedLabel); return s; });
        await MirrorAsync(target, storeA, link);
        Assert.Empty(await storeA.ListAsync<Service>());
        Assert.Empty(await storeA.ListAsync<Endpoints>());

        Assert.True(await linker.UnlinkAsync("a", "b", CancellationToken.None));
        Assert.Empty(await storeA.ListAsync<Link>());
        Assert.Empty((await a.Client().CoreV1.ListNamespacedSecretAsync(WellKnown.SystemNamespace)).Items);
        Assert.Empty((await b.Client().CoreV1.ListNamespacedServiceAccountAsync(WellKnown.SystemNamespace)).Items);
        Assert.Empty((await b.Client().RbacAuthorizationV1.ListClusterRoleBindingAsync()).Items);
        var revoked = await Assert.ThrowsAsync<StoreForbiddenException>(() => target.ListAsync<Service>());
        Assert.Equal(401, revoked.StatusCode);
        Assert.False(await linker.UnlinkAsync("a", "b", CancellationToken.None));
    }

    /// <summary>One reconcile pass of service mirroring, as the controller does it, through the two stores.</summary>
    private static async Task MirrorAsync(IClusterStore target, IClusterStore local, Link link)
    {
        var exported = (await target.ListAsync<Service>()).Where(WellKnown.IsExported).ToList();
        foreach (var s in exported)
        {
            var name = WellKnown.MirrorName(s.Name, link.Spec.TargetCluster);
            var labels = new Dictionary<string, string> { [WellKnown.MirrorOfLabel] = s.Name, [WellKnown.MirrorClusterLabel] = link.Spec.TargetCluster };
            await local.ApplyAsync(new Service { Metadata = new ObjectMeta { Name = name, Namespace = s.Namespace, Labels = labels }, Spec = new ServiceSpec { Ports = s.Spec.Ports } });
            await local.ApplyAsync(new Endpoints
            {
                Metadata = new ObjectMeta { Name = name, Namespace = s.Namespace, Labels = labels },
                Spec = new EndpointsSpec { Endpoints = [new EndpointEntry { Address = link.Spec.GatewayAddress, Identity = link.Spec.GatewayIdentity, Cluster = link.Spec.TargetCluster, ViaGateway = true }] },
            });
        }
        foreach (var mirror in (await local.ListAsync<Service>()).Where(m => m.Metadata.Label(WellKnown.MirrorClusterLabel) == link.Spec.TargetCluster))
        {
            if (exported.Any(e => e.Namespace == mirror.Namespace && WellKnown.MirrorName(e.Name, link.Spec.TargetCluster) == mirror.Name)) continue;
            await local.DeleteAsync<Service>(mirror.Namespace, mirror.Name);
            await local.DeleteAsync<Endpoints>(mirror.Namespace, mirror.Name);
        }
    }
}
