using k8s;
using k8s.Models;

namespace FedMesh.Linker.Kubernetes;

/// <summary>Create, merge-patch and delete for each kind <c>fedmesh install</c> renders, through KubernetesClient's typed API.</summary>
internal static class ManifestKinds
{
    public sealed record Operations(
        Func<IKubernetes, string, string?, CancellationToken, Task> Create,
        Func<IKubernetes, V1Patch, string, string?, CancellationToken, Task> Patch,
        Func<IKubernetes, string, string?, CancellationToken, Task> Delete);

    public static readonly IReadOnlyDictionary<string, Operations> All = new Dictionary<string, Operations>(StringComparer.Ordinal)
    {
        ["CustomResourceDefinition"] = new(
            (k, j, _, ct) => k.ApiextensionsV1.CreateCustomResourceDefinitionAsync(Read<V1CustomResourceDefinition>(j), cancellationToken: ct),
            (k, p, n, _, ct) => k.ApiextensionsV1.PatchCustomResourceDefinitionAsync(p, n, cancellationToken: ct),
            (k, n, _, ct) => k.ApiextensionsV1.DeleteCustomResourceDefinitionAsync(n, cancellationToken: ct)),
        ["Namespace"] = new(
            (k, j, _, ct) => k.CoreV1.CreateNamespaceAsync(Read<V1Namespace>(j), cancellationToken: ct),
            (k, p, n, _, ct) => k.CoreV1.PatchNamespaceAsync(p, n, cancellationToken: ct),
            (k, n, _, ct) => k.CoreV1.DeleteNamespaceAsync(n, cancellationToken: ct)),
        ["ServiceAccount"] = new(
            (k, j, ns, ct) => k.CoreV1.CreateNamespacedServiceAccountAsync(Read<V1ServiceAccount>(j), ns!, cancellationToken: ct),
            (k, p, n, ns, ct) => k.CoreV1.PatchNamespacedServiceAccountAsync(p, n, ns!, cancellationToken: ct),
            (k, n, ns, ct) => k.CoreV1.DeleteNamespacedServiceAccountAsync(n, ns!, cancellationToken: ct)),
        ["Secret"] = new(
            (k, j, ns, ct) => k.CoreV1.CreateNamespacedSecretAsync(Read<V1Secret>(j), ns!, cancellationToken: ct),
            (k, p, n, ns, ct) => k.CoreV1.PatchNamespacedSecretAsync(p, n, ns!, cancellationToken: ct),
            (k, n, ns, ct) => k.CoreV1.DeleteNamespacedSecretAsync(n, ns!, cancellationToken: ct)),
        ["Service"] = new(
            (k, j, ns, ct) => k.CoreV1.CreateNamespacedServiceAsync(Read<V1Service>(j), ns!, cancellationToken: ct),
            (k, p, n, ns, ct) => k.CoreV1.PatchNamespacedServiceAsync(p, n, ns!, cancellationToken: ct),
            (k, n, ns, ct) => k.CoreV1.DeleteNamespacedServiceAsync(n, ns!, cancellationToken: ct)),
        ["Deployment"] = new(
            (k, j, ns, ct) => k.AppsV1.CreateNamespacedDeploymentAsync(Read<V1Deployment>(j), ns!, cancellationToken: ct),
            (k, p, n, ns, ct) => k.AppsV1.PatchNamespacedDeploymentAsync(p, n, ns!, cancellationToken: ct),
            (k, n, ns, ct) => k.AppsV1.DeleteNamespacedDeploymentAsync(n, ns!, cancellationToken: ct)),
        ["ClusterRole"] = new(
            (k, j, _, ct) => k.RbacAuthorizationV1.CreateClusterRoleAsync(Read<V1ClusterRole>(j), cancellationToken: ct),
            (k, p, n, _, ct) => k.RbacAuthorizationV1.PatchClusterRoleAsync(p, n, cancellationToken: ct),
            (k, n, _, ct) => k.RbacAuthorizationV1.DeleteClusterRoleAsync(n, cancellationToken: ct)),
        ["ClusterRoleBinding"] = new(
            (k, j, _, ct) => k.RbacAuthorizationV1.CreateClusterRoleBindingAsync(Read<V1ClusterRoleBinding>(j), cancellationToken: ct),
            (k, p, n, _, ct) => k.RbacAuthorizationV1.PatchClusterRoleBindingAsync(p, n, cancellationToken: ct),
            (k, n, _, ct) => k.RbacAuthorizationV1.DeleteClusterRoleBindingAsync(n, cancellationToken: ct)),
        ["Role"] = new(
            (k, j, ns, ct) => k.RbacAuthorizationV1.CreateNamespacedRoleAsync(Read<V1Role>(j), ns!, cancellationToken: ct),
            (k, p, n, ns, ct) => k.RbacAuthorizationV1.PatchNamespacedRoleAsync(p, n, ns!, cancellationToken: ct),
            (k, n, ns, ct) => k.RbacAuthorizationV1.DeleteNamespacedRoleAsync(n, ns!, cancellationToken: ct)),
        ["RoleBinding"] = new(
            (k, j, ns, ct) => k.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(Read<V1RoleBinding>(j), ns!, cancellationToken: ct),
            (k, p, n, ns, ct) => k.RbacAuthorizationV1.PatchNamespacedRoleBindingAsync(p, n, ns!, cancellationToken: ct),
            (k, n, ns, ct) => k.RbacAuthorizationV1.DeleteNamespacedRoleBindingAsync(n, ns!, cancellationToken: ct)),
    };

    private static T Read<T>(string json) => KubernetesJson.Deserialize<T>(json);
}
