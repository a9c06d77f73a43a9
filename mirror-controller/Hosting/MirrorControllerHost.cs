using FedMesh.Core.Federation;
using FedMesh.Core.Identity;
using FedMesh.Core.Store.Local;
using FedMesh.MirrorController.Targets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace FedMesh.MirrorController;

/// <summary>
/// Runs one cluster's mirror-controller until cancelled: <c>--Home /path/to/federation --Cluster east</c>.
/// Reads <c>config.yaml</c>, opens the cluster's store, issuer and bootstrap token, and serves gRPC
/// (Discovery, Identity) and the admin port on 127.0.0.1.
/// </summary>
public static class MirrorControllerHost
{
    /// <summary>Runs the controller. Returns 0 after a clean stop, 1 when it cannot start or fails, 2 on usage errors.</summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken ct)
    {
        var options = new MirrorControllerOptions();
        var usage = Hosting.CommandLineOptions.Bind(args, options);
        if (usage.Count > 0)
        {
            foreach (var error in usage)
                await Console.Error.WriteLineAsync("mirror-controller: " + error).ConfigureAwait(false);
            await Console.Error.WriteLineAsync("usage: mirror-controller --Home <federation home> --Cluster <name> [--RepairInterval hh:mm:ss] [--DiscoveryDebounce hh:mm:ss.fff]").ConfigureAwait(false);
            return 2;
        }
        if (Hosting.KubernetesControllerSettings.Requested(Environment.GetEnvironmentVariable))
            return await RunInKubernetesAsync(options, ct).ConfigureAwait(false);

        var time = TimeProvider.System;
        var paths = FederationPaths.Resolve(options.Home);
        Hosting.ControllerSetup setup;
        LocalClusterStore store;
        LocalTargetStoreResolver targets;
        try
        {
            var config = FederationConfigFile.Load(paths.ConfigFile);
            var cluster = config.Find(options.Cluster)
                ?? throw new InvalidOperationException($"cluster '{options.Cluster}' is not in {paths.ConfigFile}; known clusters: {string.Join(", ", config.Clusters.Select(c => c.Name))}");
            if (!string.Equals(cluster.Type, "local", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"cluster '{cluster.Name}' is of type '{cluster.Type}'; this host runs local clusters only (on Kubernetes, install the controller with 'fedmesh install')");
            var issuer = CertificateAuthority.Load(paths.IssuerDirectory(cluster.Name), time);
            var tokenFile = paths.BootstrapTokenFile(cluster.Name);
            var token = File.Exists(tokenFile) ? (await File.ReadAllTextAsync(tokenFile, ct).ConfigureAwait(false)).Trim() : "";
            if (token.Length == 0)
                throw new InvalidOperationException($"the bootstrap token file {tokenFile} is missing or empty; recreate the cluster with 'fedmesh up'");
            store = new LocalClusterStore(cluster.Name, paths.StoreDirectory(cluster), time);
            targets = new LocalTargetStoreResolver(paths, FederationConfigFile.Load, (target, directory) => new LocalClusterStore(target.Name, directory, time));
            setup = new Hosting.ControllerSetup
            {
                Identity = new Hosting.ControllerIdentity(cluster.Name, config.TrustDomain),
                Store = store,
                Targets = targets,
                Options = options,
                GrpcPort = cluster.Controller.GrpcPort,
                AdminPort = cluster.Controller.AdminPort,
                Issuer = new Hosting.IssuerSetup(issuer, CertifyAuthorizers.BootstrapToken(cluster.Name, token)),
                Time = time,
            };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"mirror-controller: cannot start for cluster '{options.Cluster}' of {paths.Home}: {e.Message}").ConfigureAwait(false);
            return 1;
        }

        try
        {
            await using var app = Hosting.ControllerApplication.Build(setup);
            await ((IHost)app).RunAsync(ct).ConfigureAwait(false);
            return 0;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            return 0;
        }
        catch (IOException e)
        {
            await Console.Error.WriteLineAsync($"mirror-controller: cluster '{options.Cluster}' cannot listen on 127.0.0.1:{setup.GrpcPort}/{setup.AdminPort}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            await targets.DisposeAsync().ConfigureAwait(false);
            store.Dispose();
            setup.Issuer?.Issuer.Dispose();
        }
    }

    private static async Task<int> RunInKubernetesAsync(MirrorControllerOptions options, CancellationToken ct)
    {
        var (settings, errors) = Hosting.KubernetesControllerSettings.Read(Environment.GetEnvironmentVariable);
        foreach (var error in errors)
            await Console.Error.WriteLineAsync("mirror-controller: " + error).ConfigureAwait(false);
        return settings is null ? 2 : await Hosting.KubernetesControllerHost.RunAsync(options, settings, ct).ConfigureAwait(false);
    }
}
