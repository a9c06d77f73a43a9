using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Transport;
using FedMesh.Linker.Kubernetes;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh install --cluster NAME [--apply] [--gateway-port N] [--gateway-busy-poll-us N]</c> prints (or applies) everything a
/// Kubernetes cluster runs FedMesh with; <c>fedmesh uninstall --cluster NAME [--keep-crds]</c> deletes it again.
/// </summary>
internal static class InstallCommands
{
    /// <param name="issuers">Where the cluster's issuer comes from; default: created once from the federation's trust anchor and kept in its home.</param>
    public static Command BuildInstall(Func<Federation, ClusterConfig, IssuerPem>? issuers = null)
    {
        issuers ??= (federation, cluster) => ClusterIssuers.LoadOrCreate(federation.Paths, federation.Config, cluster.Name, TimeProvider.System);
        var cluster = ClusterOption();
        var apply = new Option<bool>("--apply") { Description = "Apply the manifests to the cluster instead of printing them" };
        var port = new Option<int>("--gateway-port") { Description = "Port of the gateway's LoadBalancer Service", DefaultValueFactory = _ => InstallDefaults.GatewayPort };
        var busyPoll = new Option<int>("--gateway-busy-poll-us")
        {
            Description = $"The gateway's busy-poll window in microseconds (0 to {BusyPolling.MaxMicroseconds}; default 0, off): it polls that long for an answer it expects instead of sleeping",
        };
        var command = new Command("install", "Print (or with --apply, apply) the manifests that run FedMesh in a Kubernetes cluster") { cluster, apply, port, busyPoll };
        command.SetAction(async (parse, ct) =>
        {
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var target = KubernetesCluster(federation, parse.GetValue(cluster)!);
            var gatewayPort = parse.GetValue(port);
            if (gatewayPort is < 1 or > 65535)
                throw new CliException($"--gateway-port must be between 1 and 65535 (got {gatewayPort})", ExitCodes.Usage);
            var gatewayBusyPoll = parse.GetValue(busyPoll);
            if (!BusyPolling.IsWindow(gatewayBusyPoll))
                throw new CliException($"--gateway-busy-poll-us {gatewayBusyPoll} is not a busy-poll window: {BusyPolling.Rule}", ExitCodes.Usage);
            var issuer = issuers(federation, target);
            var manifests = InstallManifests.Render(new InstallOptions
            {
                Cluster = target.Name,
                TrustDomain = federation.Config.TrustDomain,
                GatewayPort = gatewayPort,
                GatewayBusyPollMicroseconds = gatewayBusyPoll,
                IssuerCertificatePem = issuer.CertificatePem,
                IssuerKeyPem = issuer.KeyPem,
                TrustAnchorPem = issuer.AnchorPem,
            });
            if (!parse.GetValue(apply))
            {
                await Console.Out.WriteAsync(ManifestYaml.Write(manifests)).ConfigureAwait(false);
                return ExitCodes.Success;
            }
            using var client = KubeContexts.Open(target);
            await new ManifestApplier(client, target.Name, Console.Out).ApplyAsync(manifests, ct).ConfigureAwait(false);
            Console.WriteLine($"FedMesh is installed in cluster {target.Name}. Next: fedmesh link {target.Name} OTHER-CLUSTER");
            return ExitCodes.Success;
        });
        return command;
    }

    public static Command BuildUninstall()
    {
        var cluster = ClusterOption();
        var keepCrds = new Option<bool>("--keep-crds")
        {
            Description = $"Keep the CRDs, the {WellKnown.SystemNamespace} namespace and every Link, TrafficSplit and FailoverPolicy (with the links' credentials); delete the rest",
        };
        var command = new Command("uninstall", "Delete everything 'fedmesh install' put in a Kubernetes cluster, the CRDs and their resources included unless --keep-crds") { cluster, keepCrds };
        command.SetAction(async (parse, ct) =>
        {
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var target = KubernetesCluster(federation, parse.GetValue(cluster)!);
            var keep = parse.GetValue(keepCrds);
            using var client = KubeContexts.Open(target);
            await new ManifestApplier(client, target.Name, Console.Out).DeleteAsync(InstallManifests.UninstallOrder(target.Name, keep), ct).ConfigureAwait(false);
            if (keep)
                Console.WriteLine($"Kept in cluster {target.Name}: the fedmesh.io CRDs and their resources, and namespace {WellKnown.SystemNamespace} with the Links' credentials. 'fedmesh install --cluster {target.Name} --apply' picks them up again.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Option<string> ClusterOption() => new("--cluster", "--context") { Description = "The Kubernetes cluster of the federation", Required = true };

    private static ClusterConfig KubernetesCluster(Federation federation, string name)
    {
        var cluster = federation.Cluster(name);
        if (cluster.Type != "kubernetes")
            throw new CliException($"cluster '{name}' is a {cluster.Type} cluster; install is for Kubernetes clusters (add one with 'fedmesh cluster add NAME --context CTX')");
        return cluster;
    }
}
