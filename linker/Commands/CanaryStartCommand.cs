using System.CommandLine;
using FedMesh.Core.Canary;
using FedMesh.Core.Resources;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh canary start SVC --to SVC@CLUSTER ...</c>: writes the split with an analysis block and a
/// fresh status; the cluster's controller then runs the rollout (the same as applying the YAML).
/// </summary>
internal static class CanaryStartCommand
{
    public static Command Build()
    {
        var service = CanaryCommands.ServiceArgument();
        var to = new Option<string>("--to") { Description = "The canary backend, SERVICE@CLUSTER (e.g. web-v2@west) or SERVICE in this cluster", Required = true };
        var defaults = new CanaryAnalysis();
        var step = new Option<int>("--step") { Description = $"Percent added after every passing check (default {defaults.StepWeight})", DefaultValueFactory = _ => defaults.StepWeight };
        var max = new Option<int>("--max") { Description = $"Percent at which a passing check promotes the canary to 100 (default {defaults.MaxWeight})", DefaultValueFactory = _ => defaults.MaxWeight };
        var interval = new Option<string>("--interval") { Description = $"Time between checks, e.g. 30s (default {defaults.Interval})", DefaultValueFactory = _ => defaults.Interval };
        var threshold = new Option<int>("--threshold") { Description = $"Failed checks (or checks without data) before rolling back (default {defaults.Threshold})", DefaultValueFactory = _ => defaults.Threshold };
        var minSuccess = new Option<double?>("--min-success") { Description = "Lowest success rate in percent the canary may show, e.g. 99" };
        var maxP99 = new Option<string?>("--max-p99") { Description = "Highest p99 latency the canary may show, e.g. 300ms" };
        var cluster = CanaryCommands.ClusterOption();
        var ns = GlobalOptions.Namespace();
        var command = new Command("start", "Start a progressive canary: the controller raises the canary's weight step by step while its checks pass, promotes at --max, rolls back after --threshold failed checks")
            { service, to, step, max, interval, threshold, minSuccess, maxP99, cluster, ns };
        command.SetAction(async (parse, ct) =>
        {
            var svc = parse.GetValue(service)!;
            var target = CanarySplits.ParseTarget(parse.GetValue(to)!);
            var analysis = new CanaryAnalysis
            {
                StepWeight = parse.GetValue(step),
                MaxWeight = parse.GetValue(max),
                Interval = parse.GetValue(interval)!,
                Threshold = parse.GetValue(threshold),
                SuccessRate = parse.GetValue(minSuccess) is { } rate ? new SuccessRateCheck { Min = rate } : null,
                LatencyP99 = parse.GetValue(maxP99) is { } p99 ? new LatencyCheck { Max = p99 } : null,
            };
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var store = federation.Store(federation.ClusterOrDefault(parse.GetValue(cluster)));
            var split = await CanarySplits.EditAsync(store, parse.GetValue(ns) ?? ObjectMeta.DefaultNamespace, svc, $"canary start of {svc}", current =>
            {
                List<SplitBackend> backends;
                try { backends = SplitWeights.Shift(CanarySplits.CurrentWeights(current, svc), target, 0, store.Cluster); }
                catch (InvalidOperationException e) { throw new CliException($"canary start of {svc} was refused; nothing changed: {e.Message}"); }
                var next = current ?? new TrafficSplit();
                next.Spec = new TrafficSplitSpec { Service = svc, Backends = backends, Analysis = analysis };
                // A fresh status is a new rollout: the controller starts it from the spec's weights.
                next.Status = null;
                return next;
            }, ct).ConfigureAwait(false);
            var checks = new List<string>();
            if (analysis.SuccessRate is not null) checks.Add($"success rate >= {analysis.SuccessRate.Min}%");
            if (analysis.LatencyP99 is not null) checks.Add($"p99 <= {analysis.LatencyP99.Max}");
            Console.WriteLine($"trafficsplit/{split.Name} in cluster {store.Cluster}: canary {SplitWeights.Describe(target, store.Cluster)} starts; +{analysis.StepWeight}% every {analysis.Interval} up to {analysis.MaxWeight}% while {(checks.Count > 0 ? string.Join(" and ", checks) : "it gets traffic")}; rolls back after {analysis.Threshold} failed checks");
            Console.WriteLine($"follow it with: fedmesh canary status {svc} --cluster {store.Cluster}");
            return ExitCodes.Success;
        });
        return command;
    }
}
