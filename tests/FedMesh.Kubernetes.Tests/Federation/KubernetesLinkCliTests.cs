using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Kubernetes.Tests.ApiServer;
using FedMesh.Kubernetes.Tests.Cli;
using FedMesh.Tests.Shared;
using k8s;
using k8s.Models;
using static FedMesh.Kubernetes.Tests.Federation.KubernetesFederation;
using static FedMesh.Kubernetes.Tests.Store.StoreFixture;

namespace FedMesh.Kubernetes.Tests.Federation;

/// <summary>
/// <c>fedmesh link</c> and <c>unlink</c> between two Kubernetes clusters, with both real mirror-controllers
/// running: credentials, Links, mirrors as Services and EndpointSlices, and their clean-up.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class KubernetesLinkCliTests
{
    [Fact]
    public async Task Link_TwoKubernetesClusters_MirrorsExportedServicesThenUnexportAndUnlinkCleanUp()
    {
        await using var federation = await StartAsync();
        var a = federation.Store("a");
        var b = federation.Store("b");
        await b.CreateAsync(Svc("web", exported: true));
        await b.CreateAsync(Svc("internal"));
        await federation.StartControllerAsync("a");
        await federation.StartControllerAsync("b");

        var linked = await federation.CliAsync("link", "a", "b", "--timeout", "20");

        Assert.True(linked.ExitCode == 0, linked.Error + linked.Out);
        Assert.Contains("a: 1/1 services of b mirrored", linked.Out);
        var link = await a.GetAsync<Link>(WellKnown.SystemNamespace, "b");
        Assert.Equal("10.0.0.2:4143", link!.Spec.GatewayAddress);
        Assert.Equal("spiffe://fedmesh.local/cluster/b/ns/fedmesh-system/sa/gateway", link.Spec.GatewayIdentity);
        Assert.Equal(LinkCredentials.SecretName("b"), link.Spec.CredentialsSecret);
        Assert.NotNull(await b.GetAsync<Link>(WellKnown.SystemNamespace, "a"));
        Assert.Equal(["web-b"], (await a.ListAsync<Service>()).Where(s => s.Namespace == "default").Select(s => s.Name));
        var slice = await federation.A.Client().DiscoveryV1.ReadNamespacedEndpointSliceAsync("web-b", "default");
        Assert.Equal("web-b", slice.Metadata.Labels["kubernetes.io/service-name"]);
        var endpoint = Assert.Single((await a.GetAsync<Endpoints>("default", "web-b"))!.Spec.Endpoints);
        Assert.Equal(("10.0.0.2:4143", true), (endpoint.Address, endpoint.ViaGateway));
        await Eventually.ValueAsync(() => ReadyAsync(a), r => r.Condition?.Status == "True", "a's link to b Ready", KubernetesFederation.Deadline);

        await b.MutateAsync<Service>("default", "web", s => { s!.Metadata.Labels!.Remove(WellKnown.ExportedLabel); return s; });
        await Eventually.TrueAsync(async () => await a.GetAsync<Service>("default", "web-b") is null && await a.GetAsync<Endpoints>("default", "web-b") is null,
            "web-b no longer mirrored in a after b unexported web", KubernetesFederation.Deadline);

        await b.MutateAsync<Service>("default", "web", s => { (s!.Metadata.Labels ??= [])[WellKnown.ExportedLabel] = "true"; return s; });
        await Eventually.TrueAsync(async () => await a.GetAsync<Service>("default", "web-b") is not null, "web-b mirrored again", KubernetesFederation.Deadline);
        var unlinked = await federation.CliAsync("unlink", "a", "b", "--timeout", "20");

        Assert.True(unlinked.ExitCode == 0, unlinked.Error + unlinked.Out);
        Assert.Null(await a.GetAsync<Service>("default", "web-b"));
        Assert.Null(await a.GetAsync<Endpoints>("default", "web-b"));
        Assert.Empty(await a.ListAsync<Link>());
        Assert.Empty(await b.ListAsync<Link>());
        foreach (var server in new[] { federation.A, federation.B })
        {
            var client = server.Client();
            Assert.DoesNotContain((await client.CoreV1.ListNamespacedSecretAsync(WellKnown.SystemNamespace)).Items, s => s.Name().StartsWith("fedmesh-link-", StringComparison.Ordinal));
            Assert.DoesNotContain((await client.CoreV1.ListNamespacedServiceAccountAsync(WellKnown.SystemNamespace)).Items, s => s.Name().StartsWith("fedmesh-link-", StringComparison.Ordinal));
            Assert.DoesNotContain((await client.RbacAuthorizationV1.ListClusterRoleAsync()).Items, r => r.Name().StartsWith("fedmesh-link-", StringComparison.Ordinal));
        }
        var again = await federation.CliAsync("unlink", "a", "b");
        Assert.Equal((1, "error: a and b are not linked"), (again.ExitCode, again.Error.Trim()));

        // Linking again mints a new token under the same Secret name; the running controller must use it.
        var relinked = await federation.CliAsync("link", "a", "b", "--timeout", "20");
        Assert.True(relinked.ExitCode == 0, relinked.Error + relinked.Out);
        Assert.NotNull(await a.GetAsync<Service>("default", "web-b"));
    }

    [Fact]
    public async Task Link_GatewayWithoutLoadBalancerAddress_FailsWithTheFlagToUse()
    {
        await using var federation = await StartAsync();
        await federation.B.Client().CoreV1.PatchNamespacedServiceAsync(
            new V1Patch("{\"status\":null}", V1Patch.PatchType.MergePatch), InstallDefaults.GatewayName, WellKnown.SystemNamespace);

        var refused = await federation.CliAsync("link", "a", "b", "--wait", "false");
        var given = await federation.CliAsync("link", "a", "b", "--one-way", "--wait", "false", "--gateway-address", "b=192.0.2.7:4143");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("has no LoadBalancer address yet", refused.Error);
        Assert.Contains("--gateway-address b=HOST:PORT", refused.Error);
        Assert.True(given.ExitCode == 0, given.Error + given.Out);
        Assert.Equal("192.0.2.7:4143", (await federation.Store("a").GetAsync<Link>(WellKnown.SystemNamespace, "b"))!.Spec.GatewayAddress);
        var admit = (await federation.Store("b").GetAsync<Link>(WellKnown.SystemNamespace, "a"))!;
        Assert.Equal((false, null), (admit.Spec.Mirror, admit.Spec.CredentialsSecret));
    }

    [Fact]
    public async Task Controller_LinkTokenForbiddenToListServices_ReportsItInTheLinkAndRecoversWithBoundedRetries()
    {
        await using var federation = await StartAsync();
        var a = federation.Store("a");
        var b = federation.Store("b");
        await b.CreateAsync(Svc("web", exported: true));
        await federation.StartControllerAsync("a");
        var linked = await federation.CliAsync("link", "a", "b", "--one-way", "--timeout", "20");
        Assert.True(linked.ExitCode == 0, linked.Error + linked.Out);
        var roles = federation.B.Client().RbacAuthorizationV1;
        var account = KubernetesLinkProvisioner.AccountName("a");
        var role = await roles.ReadClusterRoleAsync(account);
        var granted = role.Rules;

        // b's admin takes away the right to read Services; the controller's open watch ends and must start again.
        role.Rules = [granted.Single(r => r.Resources.Contains("endpointslices"))];
        await roles.ReplaceClusterRoleAsync(role, account);
        federation.B.EndAllWatches();

        await Eventually.ValueAsync(() => ReadyAsync(a), r => r.Condition?.Reason == "Forbidden", "a's link to b not Ready: Forbidden", KubernetesFederation.Deadline);
        var condition = (await ReadyConditionAsync(a, "b"))!;
        Assert.Equal("False", condition.Status);
        Assert.StartsWith($"the credentials in Secret {WellKnown.SystemNamespace}/{LinkCredentials.SecretName("b")} may not read services in cluster 'b': ", condition.Message);
        Assert.Contains("is forbidden", condition.Message);
        Assert.Matches("cannot (list|watch) resource \"services\"", condition.Message);
        Assert.Contains("grant the verb in the RBAC role", condition.Message);
        Assert.NotNull(await a.GetAsync<Service>("default", "web-b")); // mirrors stay: traffic through the gateway may still work
        var before = federation.B.Requests;
        await Task.Delay(TimeSpan.FromSeconds(3));
        var retries = federation.B.Requests - before;
        Assert.InRange(retries, 1, 12); // backoff up to 1 s: a few attempts in 3 s, not a spin

        role = await roles.ReadClusterRoleAsync(account);
        role.Rules = granted;
        await roles.ReplaceClusterRoleAsync(role, account);
        await Eventually.ValueAsync(() => ReadyAsync(a), r => r.Condition?.Status == "True", "a's link to b Ready again", KubernetesFederation.Deadline);
        await b.CreateAsync(Svc("api", exported: true));
        await Eventually.TrueAsync(async () => await a.GetAsync<Service>("default", "api-b") is not null, "api-b mirrored after the role was restored", KubernetesFederation.Deadline);
    }

    private static string Describe(Condition? c) => c is null ? "no Ready condition" : $"{c.Status} {c.Reason}: {c.Message}";

    private static async Task<Ready> ReadyAsync(IClusterStore a) => new(await ReadyConditionAsync(a, "b"));

    /// <summary>a's Ready condition for its link to b, shown as <see cref="Describe"/> when a wait for it times out.</summary>
    private sealed record Ready(Condition? Condition)
    {
        public override string ToString() => Describe(Condition);
    }
}
