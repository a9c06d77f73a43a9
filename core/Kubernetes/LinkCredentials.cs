using System.Security.Cryptography.X509Certificates;
using System.Text;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using k8s;
using k8s.Models;

namespace FedMesh.Core.Kubernetes;

/// <summary>
/// The Secret a Link's <c>credentialsSecret</c> names (namespace fedmesh-system of the mirroring cluster):
/// <c>server</c> (the target's API URL), <c>token</c> (the target's link ServiceAccount token),
/// <c>ca.crt</c> (the target API's CA, PEM) and <c>cluster</c> (the target's name).
/// </summary>
public static class LinkCredentials
{
    public const string ServerKey = "server";
    public const string TokenKey = "token";
    public const string CaKey = "ca.crt";
    public const string ClusterKey = "cluster";

    /// <summary>Name of the credentials Secret in the mirroring cluster for target <paramref name="target"/>.</summary>
    public static string SecretName(string target) => $"fedmesh-link-{target}";

    public static V1Secret ToSecret(string target, string server, string token, string caPem) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Metadata = new V1ObjectMeta
        {
            Name = SecretName(target),
            NamespaceProperty = WellKnown.SystemNamespace,
            Labels = new Dictionary<string, string> { [InstallDefaults.PartOfLabel] = "fedmesh", ["fedmesh.io/link-target"] = target },
        },
        Type = "Opaque",
        Data = new Dictionary<string, byte[]>
        {
            [ServerKey] = Encoding.UTF8.GetBytes(server),
            [TokenKey] = Encoding.UTF8.GetBytes(token),
            [CaKey] = Encoding.UTF8.GetBytes(caPem),
            [ClusterKey] = Encoding.UTF8.GetBytes(target),
        },
    };

    /// <summary>
    /// Opens the store of <paramref name="link"/>'s target with the credentials its Secret holds in the local cluster.
    /// Throws <see cref="StoreNotFoundException"/> when the link names no Secret or it is missing a key, with what to fix.
    /// </summary>
    public static async Task<KubernetesClusterStore> OpenTargetStoreAsync(IKubernetes local, Link link, KubernetesStoreOptions? options = null, CancellationToken cancellationToken = default) =>
        Open(link.Spec.TargetCluster, await ReadAsync(local, link, cancellationToken).ConfigureAwait(false), options);

    /// <summary>Reads the credentials of <paramref name="link"/> from the Secret its <c>credentialsSecret</c> names.</summary>
    public static async Task<LinkCredentialValues> ReadAsync(IKubernetes local, Link link, CancellationToken cancellationToken = default)
    {
        var name = link.Spec.CredentialsSecret;
        if (string.IsNullOrEmpty(name))
            throw new StoreNotFoundException($"{link} has no spec.credentialsSecret; run 'fedmesh link' again to create the credentials");
        V1Secret secret;
        try
        {
            secret = await local.CoreV1.ReadNamespacedSecretAsync(name, link.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (k8s.Autorest.HttpOperationException e)
        {
            throw KubernetesErrors.Translate(e, "local", $"reading Secret {link.Namespace}/{name} named by {link}");
        }
        string Value(string key) => secret.Data is { } d && d.TryGetValue(key, out var v) && v.Length > 0 ? Encoding.UTF8.GetString(v)
            : throw new StoreNotFoundException($"Secret {link.Namespace}/{name} has no '{key}'; run 'fedmesh link' again to recreate it");
        var server = Value(ServerKey);
        var ca = server.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? Value(CaKey) : "";
        return new LinkCredentialValues(server, Value(TokenKey), ca);
    }

    /// <summary>A store of cluster <paramref name="target"/> reached with <paramref name="credentials"/>; the store owns its client.</summary>
    public static KubernetesClusterStore Open(string target, LinkCredentialValues credentials, KubernetesStoreOptions? options = null)
    {
        var config = new KubernetesClientConfiguration { Host = credentials.Server, AccessToken = credentials.Token };
        if (credentials.CaPem.Length > 0)
            config.SslCaCerts = [X509Certificate2.CreateFromPem(credentials.CaPem)];
        return new KubernetesClusterStore(target, new k8s.Kubernetes(config), options, ownsClient: true);
    }
}

/// <summary>What a link's credentials Secret holds: the target's API URL, the token and the API's CA (PEM, empty for plain HTTP).</summary>
public sealed record LinkCredentialValues(string Server, string Token, string CaPem)
{
    /// <summary>The token stays out of logs and exception messages.</summary>
    public override string ToString() => $"LinkCredentialValues {{ Server = {Server} }}";
}
