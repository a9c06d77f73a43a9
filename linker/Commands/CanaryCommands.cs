using System.CommandLine;
using FedMesh.Core.Canary;
using FedMesh.Core.Resources;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh canary shift|start|promote|rollback|status</c>: move a service's traffic between its
/// backends by hand, or let the controller do it step by step while the canary's checks pass.
/// </summary>
internal static class CanaryCommands
{
    public static Command Build()
    {
        var command = new Command("canary", "Move a service's traffic to a canary backend: by hand, or progressively with automatic rollback");
        command.Subcommands.Add(BuildShift());
        command.Subcommands.Add(CanaryStartCommand.Build());
        command.Subcommands.Add(BuildEnd("promote", "Send all of the service's traffic to its canary (the last backend)", SplitWeights.Total, CanaryPhases.Promoted));
        command.Subcommands.Add(BuildEnd("rollback", "Send none of the service's traffic to its canary (the last backend)", 0, CanaryPhases.RolledBack));
        command.Subcommands.Add(CanaryStatusCommand.Build());
        return command;
    }

    internal static Argument<string> ServiceArgument() => new("service") { Description = "The service whose traffic is split (the name applications call)" };

    internal static Option<string?> ClusterOption() => GlobalOptions.Cluster("Cluster whose proxies route by the split (default: the federation's first cluster)");

    private static Command BuildShift()
    {
        var service = ServiceArgument();
        var to = new Option<string>("--to") { Description = "The canary backend, SERVICE@CLUSTER (e.g. web@west) or SERVICE in this cluster", Required = true };
        var weight = new Option<int>("--weight") { Description = "Percent of the traffic the canary gets (0-100); the other backends keep the rest in their current proportions", Required = true };
        var cluster = ClusterOption();
        var ns = GlobalOptions.Namespace();
        var command = new Command("shift", "Give a backend a share of a service's traffic (creates or updates the service's TrafficSplit)") { service, to, weight, cluster, ns };
        command.SetAction(async (parse, ct) =>
        {
            var svc = parse.GetValue(service)!;
            var percent = parse.GetValue(weight);
            if (percent is < 0 or > SplitWeights.Total)
                throw new CliException($"--weight must be between 0 and 100 (got {percent})", ExitCodes.Usage);
            var target = CanarySplits.ParseTarget(parse.GetValue(to)!);
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var store = federation.Store(federation.ClusterOrDefault(parse.GetValue(cluster)));
            var line = $"shift: {SplitWeights.Describe(target, store.Cluster)} -> {percent}% (fedmesh canary shift)";
            var split = await CanarySplits.EditAsync(store, parse.GetValue(ns) ?? ObjectMeta.DefaultNamespace, svc, $"canary shift of {svc}", current =>
            {
                List<SplitBackend> backends;
                try { backends = SplitWeights.Shift(CanarySplits.CurrentWeights(current, svc), target, percent, store.Cluster); }
                catch (InvalidOperationException e) { throw new CliException($"canary shift of {svc} was refused; nothing changed: {e.Message}"); }
                var next = current ?? new TrafficSplit();
                next.Spec = new TrafficSplitSpec { Service = svc, Backends = backends };
                next.Status = CanarySplits.ManualStatus(current, CanaryPhases.Manual, line, TimeProvider.System);
                return next;
            }, ct).ConfigureAwait(false);
            Console.WriteLine($"trafficsplit/{split.Name} in cluster {store.Cluster}: {CanarySplits.Describe(split.Spec.Backends, store.Cluster)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command BuildEnd(string verb, string description, int canaryWeight, string phase)
    {
        var service = ServiceArgument();
        var cluster = ClusterOption();
        var ns = GlobalOptions.Namespace();
        var command = new Command(verb, description) { service, cluster, ns };
        command.SetAction(async (parse, ct) =>
        {
            var svc = parse.GetValue(service)!;
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var store = federation.Store(federation.ClusterOrDefault(parse.GetValue(cluster)));
            var namespaceName = parse.GetValue(ns) ?? ObjectMeta.DefaultNamespace;
            await CanarySplits.RequireAsync(store, namespaceName, svc, ct).ConfigureAwait(false);
            var split = await CanarySplits.EditAsync(store, namespaceName, svc, $"canary {verb} of {svc}", current =>
            {
                var next = current!;
                var canary = SplitWeights.Describe(next.Spec.Backends[^1], store.Cluster);
                // The stable backends keep their proportions from the spec (evenly if they had none).
                next.Spec.Backends = SplitWeights.WithCanaryWeight(next.Spec.Backends, canaryWeight);
                next.Spec.Analysis = null;
                next.Status = CanarySplits.ManualStatus(current, phase, $"{verb}: {canary} -> {canaryWeight}% (fedmesh canary {verb})", TimeProvider.System);
                return next;
            }, ct).ConfigureAwait(false);
            Console.WriteLine($"trafficsplit/{split.Name} in cluster {store.Cluster}: {CanarySplits.Describe(split.Spec.Backends, store.Cluster)}");
            return ExitCodes.Success;
        });
        return command;
    }
}
