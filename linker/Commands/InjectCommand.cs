using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Identity;
using YamlDotNet.Core;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh inject -f FILE [--cluster NAME]</c>: the manifests with the proxy sidecar added to every workload, on
/// standard output. The trust domain is the federation's (the default one when there is no federation yet).
/// </summary>
internal static class InjectCommand
{
    public static Command Build()
    {
        var file = new Option<string>("--filename", "-f") { Description = "YAML manifests ('-' reads standard input)", Required = true };
        var cluster = GlobalOptions.Cluster("The cluster the workloads run in (default: the federation's first cluster)");
        var command = new Command("inject", "Add the FedMesh proxy sidecar to the Deployments, StatefulSets and DaemonSets of a manifest") { file, cluster };
        command.SetAction(async (parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var name = parse.GetValue(cluster);
            if (name is not null && !DnsNames.IsLabel(name))
                throw new CliException($"'{name}' is not a valid cluster name: use {DnsNames.LabelRule}", ExitCodes.Usage);
            var paths = GlobalOptions.Paths(parse);
            var trustDomain = new FederationConfig().TrustDomain;
            if (name is null || File.Exists(paths.ConfigFile))
            {
                using var federation = Federation.Load(paths);
                name ??= federation.ClusterOrDefault(null).Name;
                trustDomain = federation.Config.TrustDomain;
            }
            string text;
            try { text = path == "-" ? await Console.In.ReadToEndAsync(ct).ConfigureAwait(false) : await File.ReadAllTextAsync(path, ct).ConfigureAwait(false); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"cannot read '{path}': {e.Message}");
            }
            try
            {
                await Console.Out.WriteAsync(SidecarInjector.Inject(text, new InjectOptions { Cluster = name, TrustDomain = trustDomain })).ConfigureAwait(false);
            }
            catch (YamlException e)
            {
                throw new CliException($"{path}:{e.Start.Line}:{e.Start.Column}: not valid YAML: {e.Message}; nothing was written");
            }
            catch (ArgumentException e)
            {
                throw new CliException($"{path}: {e.Message}; nothing was written");
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
