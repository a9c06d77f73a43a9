using FedMesh.Core.Common;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Admin;
using FedMesh.MirrorController.Hosting;
using FedMesh.MirrorController.Watching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Discovery;

/// <summary>
/// Watches the cluster's Services, Endpoints, Links, TrafficSplits and FailoverPolicies, and the endpoints of every
/// workload endpoint source (on Kubernetes: injected pods), and, once all are listed, publishes a snapshot after every change whose content differs: at once after a quiet
/// interval, at most once per <see cref="MirrorControllerOptions.DiscoveryDebounce"/> during a burst.
/// </summary>
internal sealed partial class DiscoveryModelService(
    IClusterStore store,
    IEnumerable<IWorkloadEndpointSource> workloadSources,
    SnapshotPublisher publisher,
    ControllerIdentity identity,
    MirrorControllerOptions options,
    ReadinessState readiness,
    Probing.GatewayHealthBook gateways,
    Failover.FailoverCoordinator failover,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    private readonly WakeSignal _dirty = new(); // one pending signal is enough: the publisher reads the whole model

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger("FedMesh.MirrorController.Discovery");
        var sources = workloadSources.ToList();
        var model = new ClusterModel(MarkDirty, sources.Count);
        // Probe verdicts and due failbacks change the snapshot without any store change.
        gateways.Changed += MarkDirty;
        failover.Changed += MarkDirty;
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), options.WatchRetryMaxDelay, Random.Shared);
        ValueTask<IClusterStore> Open(CancellationToken _) => ValueTask.FromResult(store);
        var what = $"cluster '{store.Cluster}'";
        var watches = new List<Task>
        {
            new StoreInformer<Core.Resources.Service>($"services of {what}", Open, null, model.Services, backoff, time, logger).RunAsync(stoppingToken),
            new StoreInformer<Core.Resources.Endpoints>($"endpoints of {what}", Open, null, model.Endpoints, backoff, time, logger).RunAsync(stoppingToken),
            new StoreInformer<Core.Resources.Link>($"links of {what}", Open, Core.Resources.WellKnown.SystemNamespace, model.Links, backoff, time, logger).RunAsync(stoppingToken),
            new StoreInformer<Core.Resources.TrafficSplit>($"traffic splits of {what}", Open, null, model.TrafficSplits, backoff, time, logger).RunAsync(stoppingToken),
            new StoreInformer<Core.Resources.FailoverPolicy>($"failover policies of {what}", Open, null, model.FailoverPolicies, backoff, time, logger).RunAsync(stoppingToken),
            PublishAsync(model, logger, stoppingToken),
        };
        for (var i = 0; i < sources.Count; i++)
            watches.Add(new StoreInformer<Core.Resources.Endpoints>(sources[i].Description, sources[i].WatchAsync, model.WorkloadEndpoints[i], backoff, time, logger).RunAsync(stoppingToken));
        await Task.WhenAll(watches).ConfigureAwait(false);
    }

    private void MarkDirty() => _dirty.Set();

    private async Task PublishAsync(ClusterModel model, ILogger logger, CancellationToken cancellationToken)
    {
        var pacer = new PublishPacer(options.DiscoveryDebounce, time);
        try
        {
            while (true)
            {
                await _dirty.WaitAsync(null, time, cancellationToken).ConfigureAwait(false);
                if (!model.Synced)
                    continue; // The last kind to sync signals again.
                // Waiting before every build would delay a lone change by the whole interval; only a burst waits.
                if (pacer.DelayBeforeBuild() is { } wait && wait > TimeSpan.Zero)
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
                // Changes during the delay are in this build; drop their signal so they do not cause an empty rebuild.
                _dirty.TryTake();
                pacer.Building();
                var view = model.Capture();
                var health = new HealthView(gateways, failover.Evaluate(view, identity.Cluster));
                var snapshot = SnapshotBuilder.Build(view, identity.Cluster, identity.TrustDomain, health);
                if (publisher.Publish(snapshot))
                    LogPublished(logger, snapshot.Version, snapshot.Services.Count, publisher.WatcherCount);
                readiness.MarkDiscoverySynced();
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _dirty.Dispose();
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Debug, Message = "Published snapshot {Version} with {Services} services to {Watchers} watchers")]
    private static partial void LogPublished(ILogger logger, string version, int services, int watchers);
}
