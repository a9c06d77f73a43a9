using System.CommandLine;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Yaml;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh apply -f FILE</c>: every document is decoded and validated before anything is
/// written, so a bad file changes nothing.
/// </summary>
internal static class ApplyCommand
{
    public static Command Build()
    {
        var file = new Option<string>("--filename", "-f") { Description = "YAML file with one or more resources ('-' reads standard input)", Required = true };
        var cluster = GlobalOptions.Cluster("Cluster to apply to (default: the federation's first cluster)");
        var command = new Command("apply", "Create or update resources from a YAML file") { file, cluster };
        command.SetAction((parse, ct) => RunAsync(parse, parse.GetValue(file)!, parse.GetValue(cluster), ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, string file, string? clusterName, CancellationToken ct)
    {
        var resources = Read(file);
        using var federation = Federation.Load(GlobalOptions.Paths(parse));
        var cluster = federation.ClusterOrDefault(clusterName);
        await ApplyAllAsync(federation.Store(cluster), cluster.Name, resources, ct, file).ConfigureAwait(false);
        return ExitCodes.Success;
    }

    /// <summary>Reads and validates every document of <paramref name="file"/>; any error throws before anything is written.</summary>
    internal static IReadOnlyList<Resource> Read(string file)
    {
        string text;
        try { text = file == "-" ? Console.In.ReadToEnd() : File.ReadAllText(file); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"cannot read '{file}': {e.Message}");
        }
        try
        {
            var resources = ResourceCodec.Decode(text, file == "-" ? "<stdin>" : file);
            if (resources.Count == 0) throw new CliException($"{file}: no resources found");
            return resources;
        }
        catch (ResourceDecodeException e)
        {
            throw new CliException($"{file} was not applied; nothing changed:\n" + string.Join("\n", e.Errors.Select(x => "  " + x)));
        }
    }

    internal static async Task ApplyAllAsync(IClusterStore store, string cluster, IReadOnlyList<Resource> resources, CancellationToken ct, string? file = null)
    {
        await EnsureSplitBackendsExistAsync(store, resources, file ?? "the input", ct).ConfigureAwait(false);
        foreach (var resource in resources)
        {
            var kind = ResourceKinds.Of(resource.GetType());
            var existed = await StoreByKind.GetAsync(store, kind, resource.Namespace, resource.Name, ct).ConfigureAwait(false) is not null;
            await StoreByKind.ApplyAsync(store, resource, ct).ConfigureAwait(false);
            Console.WriteLine($"{kind.Kind.ToLowerInvariant()}/{resource.Name} {(existed ? "configured" : "created")} in cluster {cluster}");
        }
    }

    /// <summary>Every split's backends must exist in the cluster (services, links, mirrors); all problems at once, before any write.</summary>
    private static async Task EnsureSplitBackendsExistAsync(IClusterStore store, IReadOnlyList<Resource> resources, string file, CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var split in resources.OfType<TrafficSplit>())
            foreach (var problem in await SplitBackendCheck.ProblemsAsync(store, split, ct, resources).ConfigureAwait(false))
                problems.Add($"  trafficsplit/{split.Name}: {problem}");
        if (problems.Count > 0)
            throw new CliException($"{file} was not applied to cluster {store.Cluster}; nothing changed:\n" + string.Join("\n", problems));
    }
}
