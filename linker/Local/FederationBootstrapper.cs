using System.Security.Cryptography;
using FedMesh.Core.Federation;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Local;

namespace FedMesh.Linker.Local;

/// <summary>
/// Creates a local federation home from a federation file: free loopback ports for every part,
/// the trust anchor, one issuer and bootstrap token per cluster, each cluster's store with the
/// workloads' Services. Idempotent: an existing home is loaded and anything missing is repaired.
/// config.yaml is written last, so an interrupted creation is simply redone.
/// </summary>
internal sealed class FederationBootstrapper(FederationPaths paths, TimeProvider time)
{
    public async Task<FederationConfig> EnsureAsync(string specFile, CancellationToken cancellationToken)
    {
        FederationConfig config;
        var created = !File.Exists(paths.ConfigFile);
        if (created)
        {
            config = FederationConfigFile.Load(specFile);
            FillDefaults(config);
            AssignPorts(config);
        }
        else
        {
            config = FederationConfigFile.Load(paths.ConfigFile);
            FillDefaults(config);
        }

        Directory.CreateDirectory(paths.Home);
        using var anchor = LoadOrCreateAnchor(config.TrustDomain);
        foreach (var cluster in config.Clusters)
        {
            if (cluster.Type != "local") continue;
            EnsureIssuer(anchor, cluster.Name);
            EnsureToken(cluster.Name);
            await EnsureServicesAsync(cluster, cancellationToken).ConfigureAwait(false);
        }
        if (created) FederationConfigFile.Save(config, paths.ConfigFile);
        return config;
    }

    /// <summary>A workload without a service name backs the service of its own name.</summary>
    private static void FillDefaults(FederationConfig config)
    {
        foreach (var c in config.Clusters)
            foreach (var w in c.Workloads)
                if (string.IsNullOrEmpty(w.Service)) w.Service = w.Name;
    }

    /// <summary>Every part's port: those the federation file names stay, the others are handed out (<see cref="LoopbackPorts"/>).</summary>
    private static void AssignPorts(FederationConfig config)
    {
        foreach (var c in config.Clusters)
            foreach (var w in c.Workloads)
                for (var r = w.Instances.Count; r < w.Replicas; r++)
                    w.Instances.Add(new InstancePorts { Name = $"{w.Name}-{c.Name}-{r}" });
        var ports = new LoopbackPorts();
        // The named ones first, so that none of them is handed out to a part listed before the one that names it.
        EachPort(config, port => { if (port != 0) ports.Reserve(port); return port; });
        EachPort(config, port => port != 0 ? port : ports.Next());
    }

    private static void EachPort(FederationConfig config, Func<int, int> assign)
    {
        foreach (var c in config.Clusters)
        {
            c.Controller.GrpcPort = assign(c.Controller.GrpcPort);
            c.Controller.AdminPort = assign(c.Controller.AdminPort);
            c.Gateway.Port = assign(c.Gateway.Port);
            c.Gateway.AdminPort = assign(c.Gateway.AdminPort);
            foreach (var i in c.Workloads.SelectMany(w => w.Instances))
            {
                i.AppPort = assign(i.AppPort);
                i.OutboundPort = assign(i.OutboundPort);
                i.InboundPort = assign(i.InboundPort);
                i.AdminPort = assign(i.AdminPort);
            }
        }
    }

    private CertificateAuthority LoadOrCreateAnchor(string trustDomain)
    {
        if (File.Exists(Path.Combine(paths.AnchorDirectory, "ca.crt")))
            return CertificateAuthority.Load(paths.AnchorDirectory, time);
        var anchor = CertificateAuthority.CreateRoot(trustDomain, time);
        anchor.Save(paths.AnchorDirectory);
        return anchor;
    }

    private void EnsureIssuer(CertificateAuthority anchor, string cluster)
    {
        var dir = paths.IssuerDirectory(cluster);
        if (File.Exists(Path.Combine(dir, "ca.crt"))) return;
        using var issuer = anchor.CreateIntermediate(cluster);
        issuer.Save(dir);
    }

    private void EnsureToken(string cluster)
    {
        var file = paths.BootstrapTokenFile(cluster);
        if (File.Exists(file)) return;
        Directory.CreateDirectory(Path.GetDirectoryName(file)!);
        var temp = file + ".tmp";
        File.WriteAllText(temp, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant());
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, file, overwrite: true);
    }

    /// <summary>Each workload's Service, exported when the workload says so. Existing Services are left as the user made them.</summary>
    private async Task EnsureServicesAsync(ClusterConfig cluster, CancellationToken cancellationToken)
    {
        using var store = new LocalClusterStore(cluster.Name, paths.StoreDirectory(cluster), time);
        foreach (var w in cluster.Workloads)
        {
            if (await store.GetAsync<Service>(w.Namespace, w.Service, cancellationToken).ConfigureAwait(false) is not null) continue;
            var service = new Service
            {
                Metadata = new ObjectMeta { Name = w.Service, Namespace = w.Namespace, Labels = new Dictionary<string, string> { ["app"] = w.Name } },
                Spec = new ServiceSpec { Ports = [new ServicePort { Name = "http", Port = 80, Protocol = "TCP" }] },
            };
            if (w.Exported) service.Metadata.Labels[WellKnown.ExportedLabel] = "true";
            try { await store.CreateAsync(service, cancellationToken).ConfigureAwait(false); }
            catch (StoreConflictException) { /* created concurrently: keep theirs */ }
        }
    }
}
