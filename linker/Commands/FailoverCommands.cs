using System.CommandLine;
using FedMesh.Core.Resources;

namespace FedMesh.Linker.Commands;

/// <summary><c>fedmesh failover apply | status | simulate</c>.</summary>
internal static class FailoverCommands
{
    public static Command Build()
    {
        var command = new Command("failover", "Failover policies: apply one, see which target is active and why, simulate a cluster going down");
        command.Subcommands.Add(BuildApply());
        command.Subcommands.Add(BuildStatus());
        command.Subcommands.Add(BuildSimulate());
        return command;
    }

    private static Command BuildApply()
    {
        var file = new Option<string>("--filename", "-f") { Description = "YAML file with FailoverPolicy resources", Required = true };
        var cluster = GlobalOptions.Cluster("Cluster whose traffic the policy steers (default: the federation's first cluster)");
        var command = new Command("apply", "Create or update failover policies; warns about target clusters that are not linked") { file, cluster };
        command.SetAction((parse, ct) => ApplyAsync(parse, parse.GetValue(file)!, parse.GetValue(cluster), ct));
        return command;
    }

    private static async Task<int> ApplyAsync(ParseResult parse, string file, string? clusterName, CancellationToken ct)
    {
        var resources = ApplyCommand.Read(file);
        var others = resources.Where(r => r is not FailoverPolicy).Select(r => $"{r.Kind}/{r.Name}").ToList();
        if (others.Count > 0)
            throw new CliException($"{file} was not applied; nothing changed: 'failover apply' takes FailoverPolicy resources only (found {string.Join(", ", others)}); use 'fedmesh apply' for the rest", ExitCodes.Usage);
        using var federation = Federation.Load(GlobalOptions.Paths(parse));
        var cluster = federation.ClusterOrDefault(clusterName);
        var store = federation.Store(cluster);
        await ApplyCommand.ApplyAllAsync(store, cluster.Name, resources, ct).ConfigureAwait(false);
        var linked = (await store.ListAsync<Link>(WellKnown.SystemNamespace, ct).ConfigureAwait(false))
            .Where(l => l.Spec.Mirror).Select(l => l.Spec.TargetCluster).ToHashSet(StringComparer.Ordinal);
        foreach (var policy in resources.Cast<FailoverPolicy>())
            foreach (var target in policy.Spec.Targets.Select(t => t.Cluster).Distinct())
                if (target.Length > 0 && target != cluster.Name && !linked.Contains(target))
                    Console.Error.WriteLine($"warning: failoverpolicy/{policy.Name}: cluster '{target}' is not linked to cluster '{cluster.Name}'; it gets no traffic until 'fedmesh link {cluster.Name} {target}' (recorded in the policy's status)");
        return ExitCodes.Success;
    }

    private static Command BuildStatus()
    {
        var service = new Argument<string>("service") { Description = "Service the policy steers" };
        var cluster = GlobalOptions.Cluster("Cluster (default: the federation's first cluster)");
        var ns = GlobalOptions.Namespace();
        var command = new Command("status", "Active target of a service's failover policy, since when and why") { service, cluster, ns };
        command.SetAction((parse, ct) => StatusAsync(parse, parse.GetValue(service)!, parse.GetValue(cluster), parse.GetValue(ns), ct));
        return command;
    }

    private static async Task<int> StatusAsync(ParseResult parse, string service, string? clusterName, string? ns, CancellationToken ct)
    {
        using var federation = Federation.Load(GlobalOptions.Paths(parse));
        var cluster = federation.ClusterOrDefault(clusterName);
        var policies = (await federation.Store(cluster).ListAsync<FailoverPolicy>(ns ?? ObjectMeta.DefaultNamespace, ct).ConfigureAwait(false))
            .Where(p => p.Spec.Service == service).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        if (policies.Count == 0)
            throw new CliException($"no FailoverPolicy for service '{service}' in cluster '{cluster.Name}'; create one with 'fedmesh failover apply -f FILE'");
        var output = parse.GetValue(GlobalOptions.Output);
        if (output is OutputFormat.Json or OutputFormat.Yaml)
        {
            Console.WriteLine(output == OutputFormat.Json ? Output.ToJson(policies) : Output.ToYaml(policies));
            return ExitCodes.Success;
        }
        foreach (var policy in policies)
            Console.Write(FailoverReport.Status(cluster.Name, policy));
        return ExitCodes.Success;
    }

    private static Command BuildSimulate()
    {
        var down = new Option<string>("--down") { Description = "Cluster to pretend is down", Required = true };
        var service = new Argument<string?>("service") { Description = "Only this service's policies", Arity = ArgumentArity.ZeroOrOne };
        var cluster = GlobalOptions.Cluster("Only this cluster's policies (default: every cluster)");
        var command = new Command("simulate", "Print the targets and weights that would result if a cluster went down; changes nothing") { down, service, cluster };
        command.SetAction((parse, ct) => SimulateAsync(parse, parse.GetValue(down)!, parse.GetValue(service), parse.GetValue(cluster), ct));
        return command;
    }

    private static async Task<int> SimulateAsync(ParseResult parse, string down, string? service, string? clusterName, CancellationToken ct)
    {
        using var federation = Federation.Load(GlobalOptions.Paths(parse));
        if (!federation.ClusterNames.Contains(down))
            throw new CliException($"cluster '{down}' is not in the federation; known clusters: {string.Join(", ", federation.ClusterNames)}", ExitCodes.Usage);
        var clusters = clusterName is null ? federation.Config.Clusters.ToList() : [federation.Cluster(clusterName)];
        var rows = new List<SimulationRow>();
        foreach (var cluster in clusters)
        {
            var store = federation.Store(cluster);
            var policies = await store.ListAsync<FailoverPolicy>(null, ct).ConfigureAwait(false);
            var endpoints = await store.ListAsync<Endpoints>(null, ct).ConfigureAwait(false);
            var links = await store.ListAsync<Link>(WellKnown.SystemNamespace, ct).ConfigureAwait(false);
            foreach (var policy in policies.Where(p => service is null || p.Spec.Service == service))
                rows.AddRange(FailoverSimulator.Simulate(cluster.Name, policy, endpoints, links, down));
        }
        Console.Write(FailoverReport.Simulation(down, rows));
        return ExitCodes.Success;
    }
}
