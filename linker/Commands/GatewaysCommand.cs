using System.CommandLine;
using FedMesh.Core.Resources;
using FedMesh.Linker.Latency;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh gateways [--cluster C]</c>: every link of cluster C (default: the first) with its gateway's liveness,
/// mirrored service count and probe latency, as the prober last wrote them to the Link's status.
/// </summary>
internal static class GatewaysCommand
{
    public static Command Build()
    {
        var cluster = GlobalOptions.Cluster("The cluster whose links are shown (default: the federation's first cluster)");
        var command = new Command("gateways", "Linked clusters' gateways as this cluster's prober sees them: alive, mirrored services, probe latency") { cluster };
        command.SetAction(async (parse, ct) =>
        {
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var source = federation.ClusterOrDefault(parse.GetValue(cluster));
            var links = await federation.Store(source).ListAsync<Link>(WellKnown.SystemNamespace, ct).ConfigureAwait(false);
            var rows = links
                .OrderBy(l => l.Spec.TargetCluster, StringComparer.Ordinal)
                .Select(l =>
                {
                    var s = l.Status;
                    var alive = s?.Alive == true;
                    return new ProbeLatency(source.Name, l.Spec.TargetCluster, s?.Alive, s?.LastProbe,
                        alive ? s!.Latency?.P50 : null, alive ? s!.Latency?.P95 : null, alive ? s!.Latency?.P99 : null, s?.MirroredServices ?? 0);
                })
                .ToList();
            Output.Write(parse.GetValue(GlobalOptions.Output), rows, () =>
            {
                var table = Output.Plain("CLUSTER", "ALIVE", "NUM_SVC", "LATENCY_P50", "LATENCY_P95", "LATENCY_P99");
                foreach (var r in rows)
                    table.Row(r.Target, r.Alive switch { true => "True", false => "False", null => "Unknown" }, r.MirroredServices.ToString(),
                        Millis.Format(r.P50Ms), Millis.Format(r.P95Ms), Millis.Format(r.P99Ms));
                return table;
            });
            if (rows.Count == 0 && parse.GetValue(GlobalOptions.Output) is OutputFormat.Table or OutputFormat.Wide)
                Console.Error.WriteLine($"cluster {source.Name} has no links; create one with 'fedmesh link {source.Name} <cluster>'");
            return ExitCodes.Success;
        });
        return command;
    }
}
