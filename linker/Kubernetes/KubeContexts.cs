using System.Security.Cryptography.X509Certificates;
using System.Text;
using FedMesh.Core.Federation;
using k8s;
using k8s.Exceptions;

namespace FedMesh.Linker.Kubernetes;

/// <summary>Opens a KubernetesClient for a <c>kubernetes</c> cluster of the federation from its kubeconfig context.</summary>
internal static class KubeContexts
{
    /// <summary>The client configuration of <paramref name="cluster"/>'s context; a missing file or context is an error that says which.</summary>
    public static KubernetesClientConfiguration Configuration(ClusterConfig cluster)
    {
        if (cluster.Type != "kubernetes" || string.IsNullOrEmpty(cluster.Context))
            throw new CliException($"cluster '{cluster.Name}' is not a kubernetes cluster with a context; add it with 'fedmesh cluster add {cluster.Name} --context CONTEXT'");
        var file = cluster.Kubeconfig ?? "$KUBECONFIG or ~/.kube/config";
        try
        {
            return KubernetesClientConfiguration.BuildConfigFromConfigFile(cluster.Kubeconfig, cluster.Context);
        }
        catch (Exception e) when (e is KubeConfigException or FileNotFoundException or IOException)
        {
            throw new CliException($"cluster '{cluster.Name}': cannot use context '{cluster.Context}' of {file}: {e.Message}; check 'kubectl config get-contexts' or fix the cluster with 'fedmesh cluster add {cluster.Name} --context CONTEXT --kubeconfig FILE'");
        }
    }

    public static IKubernetes Open(ClusterConfig cluster) => new k8s.Kubernetes(Configuration(cluster));

    /// <summary>The API server's address for other clusters: the cluster's <c>apiServer</c> if set, else its kubeconfig server.</summary>
    public static string ApiServer(ClusterConfig cluster, KubernetesClientConfiguration configuration) =>
        string.IsNullOrEmpty(cluster.ApiServer) ? configuration.Host.TrimEnd('/') : cluster.ApiServer.TrimEnd('/');

    /// <summary>The API server's CA bundle as PEM (empty when the kubeconfig names none).</summary>
    public static string CaPem(KubernetesClientConfiguration configuration)
    {
        if (configuration.SslCaCerts is not { Count: > 0 } certificates) return "";
        var pem = new StringBuilder();
        foreach (X509Certificate2 certificate in certificates) pem.Append(certificate.ExportCertificatePem()).Append('\n');
        return pem.ToString();
    }
}
