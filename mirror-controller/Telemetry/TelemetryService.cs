using FedMesh.Core.Telemetry.Protocol;
using FedMesh.MirrorController.Hosting;
using Grpc.Core;

namespace FedMesh.MirrorController.Telemetry;

/// <summary>Receives the proxies' and gateway's reports and answers queries over the aggregated view.</summary>
internal sealed class TelemetryService(StatsAggregator aggregator, ControllerIdentity identity) : Core.Telemetry.Protocol.Telemetry.TelemetryBase
{
    private static readonly TimeSpan DefaultWindow = TimeSpan.FromMinutes(1);

    public override async Task<ReportAck> Report(IAsyncStreamReader<StatsReport> requestStream, ServerCallContext context)
    {
        try
        {
            await foreach (var report in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                if (report.Node is { } node && !string.IsNullOrEmpty(node.Cluster) && node.Cluster != identity.Cluster)
                    throw new RpcException(new Status(StatusCode.FailedPrecondition, $"this controller serves cluster '{identity.Cluster}', not '{node.Cluster}'"));
                if (report.Stats.Count > 0)
                    aggregator.Add(report.Node?.Kind ?? Core.Discovery.Protocol.NodeKind.Proxy, report.Stats);
            }
        }
        catch (OperationCanceledException) when (context.CancellationToken.IsCancellationRequested)
        {
        }
        return new ReportAck();
    }

    public override Task<StatsView> Query(StatsQuery request, ServerCallContext context)
    {
        var window = request.WindowMs > 0 ? TimeSpan.FromMilliseconds(request.WindowMs) : DefaultWindow;
        var view = new StatsView { WindowMs = (long)window.TotalMilliseconds, Cluster = identity.Cluster };
        view.Entries.AddRange(aggregator.Query(window, request.Namespace, request.Service, request.Reporter));
        return Task.FromResult(view);
    }
}
