using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Commands;

/// <summary><c>fedmesh status</c>: every cluster's parts with their addresses, pids and readiness.</summary>
internal static class StatusCommand
{
    public static Command Build()
    {
        var command = new Command("status", "Show every part of the local federation: pid, readiness and addresses");
        command.SetAction((parse, ct) => PrintAsync(GlobalOptions.Paths(parse), parse.GetValue(GlobalOptions.Output), ct));
        return command;
    }

    public static async Task<int> PrintAsync(FederationPaths paths, OutputFormat format, CancellationToken ct)
    {
        using var federation = Federation.Load(paths);
        var report = await CollectAsync(federation, ct).ConfigureAwait(false);
        Output.Write(format, report, () =>
        {
            var table = Output.Plain("CLUSTER", "PART", "KIND", "PID", "STATUS", "ADDRESSES");
            foreach (var cluster in report.Clusters)
                foreach (var part in cluster.Parts)
                    table.Row(cluster.Name, part.Name, part.Kind, part.Pid > 0 ? part.Pid.ToString() : "-", part.Status,
                        string.Join(" ", part.Addresses.Select(a => $"{a.Key}={a.Value}")));
            return table;
        });
        return ExitCodes.Success;
    }

    private static async Task<StatusReport> CollectAsync(Federation federation, CancellationToken ct)
    {
        var paths = federation.Paths;
        var state = RuntimeState.TryLoad(paths.StateFile);
        var supervisor = LocalRuntime.SupervisorPid(paths);
        var planned = PartPlanner.Plan(paths, federation.Config);
        var ready = await Readiness.CheckAllAsync(planned.Select(p => p.ReadyUrl).ToList(), ct).ConfigureAwait(false);
        var clusters = new List<ClusterStatus>();
        foreach (var cluster in federation.Config.Clusters)
        {
            var parts = new List<PartStatus>();
            for (var i = 0; i < planned.Count; i++)
            {
                var spec = planned[i];
                if (spec.Cluster != cluster.Name) continue;
                var known = state?.Parts.Find(p => p.Name == spec.Name);
                var pid = known is not null && ProcessControl.IsAlive(known.Pid) ? known.Pid : 0;
                var status = pid == 0 ? "stopped" : ready[i] ? "ready" : "starting";
                parts.Add(new PartStatus(spec.Name[(spec.Cluster.Length + 1)..], spec.Kind, pid, pid > 0, ready[i], status, known?.Restarts ?? 0, spec.Addresses, known?.Log));
            }
            clusters.Add(new ClusterStatus(cluster.Name, cluster.Type, paths.StoreDirectory(cluster), parts));
        }
        return new StatusReport(paths.Home, supervisor > 0, supervisor, clusters);
    }
}

internal sealed record StatusReport(string Home, bool Running, int SupervisorPid, IReadOnlyList<ClusterStatus> Clusters);

internal sealed record ClusterStatus(string Name, string Type, string Store, IReadOnlyList<PartStatus> Parts);

internal sealed record PartStatus(string Name, string Kind, int Pid, bool Running, bool Ready, string Status, int Restarts, IReadOnlyDictionary<string, string> Addresses, string? Log);
