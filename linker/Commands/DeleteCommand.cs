using System.CommandLine;
using FedMesh.Core.Resources;

namespace FedMesh.Linker.Commands;

/// <summary><c>fedmesh delete KIND NAME</c>.</summary>
internal static class DeleteCommand
{
    public static Command Build()
    {
        var kind = new Argument<string>("kind") { Description = "services, endpoints, links, trafficsplits (splits), failoverpolicies" };
        var name = new Argument<string>("name");
        var cluster = GlobalOptions.Cluster("Cluster to delete from (default: the federation's first cluster)");
        var ns = GlobalOptions.Namespace();
        var command = new Command("delete", "Delete a resource") { kind, name, cluster, ns };
        command.SetAction(async (parse, ct) =>
        {
            var k = GetCommand.Kind(parse.GetValue(kind)!);
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var c = federation.ClusterOrDefault(parse.GetValue(cluster));
            var n = parse.GetValue(ns) ?? k.DefaultNamespace;
            var target = parse.GetValue(name)!;
            if (!await StoreByKind.DeleteAsync(federation.Store(c), k, n, target, ct).ConfigureAwait(false))
                throw new CliException($"{k.Kind.ToLowerInvariant()} '{target}' not found in namespace '{n}' of cluster {c.Name}");
            Console.WriteLine($"{k.Kind.ToLowerInvariant()}/{target} deleted from cluster {c.Name}");
            return ExitCodes.Success;
        });
        return command;
    }
}
