using System.CommandLine;
using FedMesh.Core.Canary;
using FedMesh.Core.Common;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry.Protocol;
using FedMesh.Linker.Local;
using Grpc.Core;
using Grpc.Net.Client;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh canary status SVC</c>: the weights in effect, the phase, what the cluster's proxies
/// observed per backend (from its controller), the last analysis and the history.
/// </summary>
internal static class CanaryStatusCommand
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(60);

    public static Command Build()
    {
        var service = CanaryCommands.ServiceArgument();
        var cluster = CanaryCommands.ClusterOption();
        var ns = GlobalOptions.Namespace();
        var command = new Command("status", "Show a service's split: weights, phase, observed success rate and p99 per backend, last analysis, history") { service, cluster, ns };
        command.SetAction(async (parse, ct) =>
        {
            var svc = parse.GetValue(service)!;
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var clusterConfig = federation.ClusterOrDefault(parse.GetValue(cluster));
            var store = federation.Store(clusterConfig);
            var namespaceName = parse.GetValue(ns) ?? ObjectMeta.DefaultNamespace;
            var split = await CanarySplits.RequireAsync(store, namespaceName, svc, ct).ConfigureAwait(false);
            var window = split.Spec.Analysis is { } a && DurationParser.TryParse(a.Interval, out var interval, out _) && interval > TimeSpan.Zero ? interval : DefaultWindow;
            var (observed, note) = await ObserveAsync(federation, clusterConfig.Name, namespaceName, svc, window, ct).ConfigureAwait(false);
            var report = CanaryStatusReport.Create(split, store.Cluster, observed, window, note);
            Output.Write(parse.GetValue(GlobalOptions.Output), report, () => CanaryStatusReport.Table(report));
            if (parse.GetValue(GlobalOptions.Output) is OutputFormat.Table or OutputFormat.Wide)
                CanaryStatusReport.WriteDetails(report);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>What the cluster's proxies measured for the service, per backend; empty with a note when the controller cannot be asked.</summary>
    private static async Task<(IReadOnlyList<RequestSummary>, string?)> ObserveAsync(Federation federation, string cluster, string ns, string service, TimeSpan window, CancellationToken ct)
    {
        var controller = PartPlanner.Plan(federation.Paths, federation.Config).FirstOrDefault(p => p.Cluster == cluster && p.Kind == "controller");
        if (controller is null || !controller.Addresses.TryGetValue("grpc", out var address))
            return ([], $"no observed stats: cluster {cluster}'s controller is not part of the local federation");
        try
        {
            using var channel = GrpcChannel.ForAddress("http://" + address);
            var client = new Telemetry.TelemetryClient(channel);
            var view = await client.QueryAsync(new StatsQuery { WindowMs = (long)window.TotalMilliseconds, Namespace = ns, Service = service },
                deadline: DateTime.UtcNow.AddSeconds(5), cancellationToken: ct).ConfigureAwait(false);
            return (view.Entries, null);
        }
        catch (RpcException e)
        {
            return ([], $"no observed stats: cluster {cluster}'s controller at {address} did not answer ({e.Status.StatusCode}); is the federation up ('fedmesh status')?");
        }
    }
}
