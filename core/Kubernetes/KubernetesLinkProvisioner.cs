using System.Text;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Kubernetes;

/// <summary>What <see cref="KubernetesLinkProvisioner"/> needs to link cluster A (mirrors) to B (target).</summary>
/// <param name="Cluster">A's name.</param>
/// <param name="Target">B's name.</param>
/// <param name="TargetApiServer">B's API URL as A's controller reaches it.</param>
/// <param name="TargetCaPem">B's API CA (PEM); may be empty for plain HTTP.</param>
public sealed record KubernetesLinkRequest(string Cluster, string Target, string TargetApiServer, string TargetCaPem, string GatewayAddress, string GatewayIdentity, bool Mirror = true);

/// <summary>
/// <c>fedmesh link A B</c> on Kubernetes. In B: a ServiceAccount <c>fedmesh-link-A</c>, a ClusterRole that may
/// only get, list and watch Services and EndpointSlices (cluster-wide, because exported services live in any
/// namespace), its binding and a service-account token Secret. In A: a Secret with B's API address, the
/// token and CA, and the Link naming it. <see cref="UnlinkAsync"/> removes all of it.
/// </summary>
public sealed class KubernetesLinkProvisioner(IKubernetes a, IKubernetes b, TimeProvider time)
{
    private const string Ns = WellKnown.SystemNamespace;

    /// <summary>How long to wait for B's token controller to fill the token Secret.</summary>
    public TimeSpan TokenTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public static string AccountName(string mirroringCluster) => $"fedmesh-link-{mirroringCluster}";

    public async Task<Link> LinkAsync(KubernetesLinkRequest request, CancellationToken cancellationToken)
    {
        var account = AccountName(request.Cluster);
        var labels = new Dictionary<string, string> { [InstallDefaults.PartOfLabel] = "fedmesh", ["fedmesh.io/linked-by"] = request.Cluster };
        V1ObjectMeta Meta(string? ns = Ns, Dictionary<string, string>? annotations = null) => new() { Name = account, NamespaceProperty = ns, Labels = labels, Annotations = annotations };

        await Upsert(() => b.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = Meta() }, Ns, cancellationToken: cancellationToken), $"ServiceAccount {Ns}/{account} in {request.Target}").ConfigureAwait(false);
        await Upsert(() => b.RbacAuthorizationV1.CreateClusterRoleAsync(new V1ClusterRole
        {
            Metadata = Meta(null),
            Rules = [new V1PolicyRule { ApiGroups = [""], Resources = ["services"], Verbs = ["get", "list", "watch"] },
                     new V1PolicyRule { ApiGroups = ["discovery.k8s.io"], Resources = ["endpointslices"], Verbs = ["get", "list", "watch"] }],
        }, cancellationToken: cancellationToken), $"ClusterRole {account} in {request.Target}").ConfigureAwait(false);
        await Upsert(() => b.RbacAuthorizationV1.CreateClusterRoleBindingAsync(new V1ClusterRoleBinding
        {
            Metadata = Meta(null),
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = account },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = account, NamespaceProperty = Ns }],
        }, cancellationToken: cancellationToken), $"ClusterRoleBinding {account} in {request.Target}").ConfigureAwait(false);
        await Upsert(() => b.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = Meta(Ns, new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = account }),
            Type = "kubernetes.io/service-account-token",
        }, Ns, cancellationToken: cancellationToken), $"token Secret {Ns}/{account} in {request.Target}").ConfigureAwait(false);
        var token = await WaitForTokenAsync(account, request.Target, cancellationToken).ConfigureAwait(false);

        var secret = LinkCredentials.ToSecret(request.Target, request.TargetApiServer, token, request.TargetCaPem);
        await CreateOrReplaceSecretAsync(secret, cancellationToken).ConfigureAwait(false);
        using var store = new KubernetesClusterStore(request.Cluster, a);
        var link = new Link
        {
            Metadata = new ObjectMeta { Name = request.Target, Namespace = Ns },
            Spec = new LinkSpec
            {
                TargetCluster = request.Target,
                GatewayAddress = request.GatewayAddress,
                GatewayIdentity = request.GatewayIdentity,
                Mirror = request.Mirror,
                Probe = new ProbeSpec(),
                CredentialsSecret = secret.Metadata.Name,
            },
        };
        return (await store.ApplyAsync(link, cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>Removes the Link and Secret in A and the account, role, binding and token in B. False if there was nothing to remove.</summary>
    public async Task<bool> UnlinkAsync(string cluster, string target, CancellationToken cancellationToken)
    {
        var account = AccountName(cluster);
        using var store = new KubernetesClusterStore(cluster, a);
        var removed = await store.DeleteAsync<Link>(Ns, target, cancellationToken: cancellationToken).ConfigureAwait(false);
        removed |= await Delete(() => a.CoreV1.DeleteNamespacedSecretAsync(LinkCredentials.SecretName(target), Ns, cancellationToken: cancellationToken)).ConfigureAwait(false);
        removed |= await Delete(() => b.CoreV1.DeleteNamespacedSecretAsync(account, Ns, cancellationToken: cancellationToken)).ConfigureAwait(false);
        removed |= await Delete(() => b.RbacAuthorizationV1.DeleteClusterRoleBindingAsync(account, cancellationToken: cancellationToken)).ConfigureAwait(false);
        removed |= await Delete(() => b.RbacAuthorizationV1.DeleteClusterRoleAsync(account, cancellationToken: cancellationToken)).ConfigureAwait(false);
        removed |= await Delete(() => b.CoreV1.DeleteNamespacedServiceAccountAsync(account, Ns, cancellationToken: cancellationToken)).ConfigureAwait(false);
        return removed;
    }

    private async Task<string> WaitForTokenAsync(string account, string target, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + TokenTimeout;
        while (true)
        {
            var secret = await b.CoreV1.ReadNamespacedSecretAsync(account, Ns, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (secret.Data is { } data && data.TryGetValue("token", out var token) && token.Length > 0)
                return Encoding.UTF8.GetString(token);
            if (time.GetUtcNow() > deadline)
                throw new TimeoutException($"cluster '{target}' has not filled the token of Secret {Ns}/{account} after {TokenTimeout.TotalSeconds:0} s; is its token controller running (kube-controller-manager)?");
            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CreateOrReplaceSecretAsync(V1Secret secret, CancellationToken cancellationToken)
    {
        try
        {
            await a.CoreV1.CreateNamespacedSecretAsync(secret, Ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            await a.CoreV1.ReplaceNamespacedSecretAsync(secret, secret.Metadata.Name, Ns, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Creates; an object already there (409) is kept, since it was made by an earlier link of the same pair.</summary>
    private static async Task Upsert<T>(Func<Task<T>> create, string what)
    {
        try
        {
            await create().ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
        }
        catch (HttpOperationException e)
        {
            throw KubernetesErrors.Translate(e, "", $"creating {what}");
        }
    }

    private static async Task<bool> Delete<T>(Func<Task<T>> delete)
    {
        try
        {
            await delete().ConfigureAwait(false);
            return true;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return false;
        }
    }
}
