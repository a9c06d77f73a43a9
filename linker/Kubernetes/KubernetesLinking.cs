using FedMesh.Core.Federation;
using FedMesh.Core.Identity;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using k8s;

namespace FedMesh.Linker.Kubernetes;

/// <summary>
/// <c>fedmesh link</c> and <c>unlink</c> between two Kubernetes clusters: least-privilege credentials in the
/// target, a Secret holding them and the Link in the mirroring cluster (<see cref="KubernetesLinkProvisioner"/>),
/// both ways unless one-way. With one-way the target gets a Link that only admits traffic, without credentials.
/// </summary>
internal static class KubernetesLinking
{
    /// <summary>True when both clusters are Kubernetes clusters; a mix of kinds cannot be linked.</summary>
    public static bool Applies(ClusterConfig a, ClusterConfig b)
    {
        var k8sA = a.Type == "kubernetes";
        var k8sB = b.Type == "kubernetes";
        if (k8sA != k8sB)
            throw new CliException($"cannot link {a.Type} cluster '{a.Name}' with {b.Type} cluster '{b.Name}': a federation links local clusters with local ones and Kubernetes clusters with Kubernetes ones");
        return k8sA;
    }

    public static async Task LinkAsync(Federation federation, ClusterConfig a, ClusterConfig b, bool oneWay, GatewayAddresses gateways, CancellationToken cancellationToken)
    {
        var configA = KubeContexts.Configuration(a);
        var configB = KubeContexts.Configuration(b);
        using var clientA = new k8s.Kubernetes(configA);
        using var clientB = new k8s.Kubernetes(configB);
        var gatewayA = await gateways.OfAsync(a.Name, clientA, cancellationToken).ConfigureAwait(false);
        var gatewayB = await gateways.OfAsync(b.Name, clientB, cancellationToken).ConfigureAwait(false);
        var time = TimeProvider.System;

        var link = await new KubernetesLinkProvisioner(clientA, clientB, time).LinkAsync(
            new KubernetesLinkRequest(a.Name, b.Name, KubeContexts.ApiServer(b, configB), KubeContexts.CaPem(configB), gatewayB, GatewayIdentity(federation.Config, b)),
            cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"  {a.Name}: Link {link.Namespace}/{link.Name} and Secret {link.Spec.CredentialsSecret}; {b.Name}: ServiceAccount {KubernetesLinkProvisioner.AccountName(a.Name)} (get/list/watch Services and EndpointSlices)");
        if (!oneWay)
        {
            var back = await new KubernetesLinkProvisioner(clientB, clientA, time).LinkAsync(
                new KubernetesLinkRequest(b.Name, a.Name, KubeContexts.ApiServer(a, configA), KubeContexts.CaPem(configA), gatewayA, GatewayIdentity(federation.Config, a)),
                cancellationToken).ConfigureAwait(false);
            Console.WriteLine($"  {b.Name}: Link {back.Namespace}/{back.Name} and Secret {back.Spec.CredentialsSecret}; {a.Name}: ServiceAccount {KubernetesLinkProvisioner.AccountName(b.Name)}");
            return;
        }
        var admit = new Link
        {
            Metadata = new ObjectMeta { Name = a.Name, Namespace = WellKnown.SystemNamespace },
            Spec = new LinkSpec { TargetCluster = a.Name, GatewayAddress = gatewayA, GatewayIdentity = GatewayIdentity(federation.Config, a), Mirror = false, Probe = new ProbeSpec() },
        };
        await federation.Store(b).ApplyAsync(admit, cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"  {b.Name}: Link {admit.Namespace}/{admit.Name} (admits {a.Name}'s traffic, mirrors nothing)");
    }

    /// <summary>Removes both directions; false when there was nothing to remove.</summary>
    public static async Task<bool> UnlinkAsync(ClusterConfig a, ClusterConfig b, CancellationToken cancellationToken)
    {
        using var clientA = KubeContexts.Open(a);
        using var clientB = KubeContexts.Open(b);
        var time = TimeProvider.System;
        var removed = await new KubernetesLinkProvisioner(clientA, clientB, time).UnlinkAsync(a.Name, b.Name, cancellationToken).ConfigureAwait(false);
        removed |= await new KubernetesLinkProvisioner(clientB, clientA, time).UnlinkAsync(b.Name, a.Name, cancellationToken).ConfigureAwait(false);
        return removed;
    }

    private static string GatewayIdentity(FederationConfig config, ClusterConfig cluster) =>
        new SpiffeId(config.TrustDomain, cluster.Name, WellKnown.SystemNamespace, InstallDefaults.GatewayServiceAccount).ToString();
}
