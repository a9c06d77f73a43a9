using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Core.Identity;
using FedMesh.Linker.Kubernetes;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh cluster add NAME --context CTX [--kubeconfig FILE] [--api-server URL]</c>: registers a
/// Kubernetes cluster in the federation (creating the federation and its trust anchor when there is none).
/// </summary>
internal static class ClusterCommand
{
    public static Command Build()
    {
        var name = new Argument<string>("name") { Description = "The cluster's name in the federation (a DNS label)" };
        var context = new Option<string>("--context") { Description = "The kubeconfig context of the cluster", Required = true };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "The kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)" };
        var apiServer = new Option<string?>("--api-server") { Description = "The API server URL other clusters' controllers use (default: the kubeconfig's server)" };
        var add = new Command("add", "Add a Kubernetes cluster (a kubeconfig context) to the federation") { name, context, kubeconfig, apiServer };
        add.SetAction((parse, _) => Task.FromResult(Add(GlobalOptions.Paths(parse), parse.GetValue(name)!, parse.GetValue(context)!, parse.GetValue(kubeconfig), parse.GetValue(apiServer), TimeProvider.System)));
        return new Command("cluster", "Manage the federation's clusters") { add };
    }

    internal static int Add(FederationPaths paths, string name, string context, string? kubeconfig, string? apiServer, TimeProvider time)
    {
        if (!DnsNames.IsLabel(name))
            throw new CliException($"'{name}' is not a valid cluster name: use {DnsNames.LabelRule}", ExitCodes.Usage);
        if (apiServer is not null && !(Uri.TryCreate(apiServer, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http"))
            throw new CliException($"--api-server '{apiServer}' is not an http(s) URL; for example https://172.18.0.3:6443", ExitCodes.Usage);
        var created = !File.Exists(paths.ConfigFile);
        var config = created ? new FederationConfig() : Federation.Load(paths).Config;
        var cluster = config.Find(name);
        if (cluster is not null && cluster.Type != "kubernetes")
            throw new CliException($"cluster '{name}' is already in {paths.ConfigFile} as a {cluster.Type} cluster; choose another name");
        var updated = cluster is not null;
        cluster ??= new ClusterConfig { Name = name, Type = "kubernetes" };
        cluster.Context = context;
        cluster.Kubeconfig = kubeconfig is null ? null : Path.GetFullPath(kubeconfig);
        cluster.ApiServer = apiServer;
        KubeContexts.Configuration(cluster); // the context must exist now, not at the first command that needs it
        if (!updated) config.Clusters.Add(cluster);

        ClusterIssuers.LoadOrCreateAnchor(paths, config.TrustDomain, time).Dispose();
        FederationConfigFile.Save(config, paths.ConfigFile);
        if (created) Console.WriteLine($"Created the federation at {paths.Home} (trust domain {config.TrustDomain})");
        Console.WriteLine($"cluster/{name} {(updated ? "configured" : "added")}: kubernetes, context {context}{(cluster.Kubeconfig is null ? "" : $" of {cluster.Kubeconfig}")}");
        if (!updated) Console.WriteLine($"Next: fedmesh install --cluster {name} --apply");
        return ExitCodes.Success;
    }
}
