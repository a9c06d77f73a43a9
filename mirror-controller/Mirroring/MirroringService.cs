using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Admin;
using FedMesh.MirrorController.Hosting;
using FedMesh.MirrorController.Targets;
using FedMesh.MirrorController.Watching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// Service mirroring for one cluster: watches its Links, each mirroring link's target services, and
/// keeps mirror Services/Endpoints and Link status in line, with a repair pass at start and on a timer.
/// </summary>
internal sealed class MirroringService(
    IClusterStore store,
    ITargetStoreResolver targets,
    MirrorControllerOptions options,
    ReadinessState readiness,
    TimeProvider time,
    ILoggerFactory loggers) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var logger = loggers.CreateLogger("FedMesh.MirrorController.Mirroring");
        var queue = new MirrorQueue(time);
        var state = new MirrorState();
        var watchBackoff = new Backoff(TimeSpan.FromMilliseconds(200), options.WatchRetryMaxDelay, Random.Shared);
        var watcher = new TargetServiceWatcher(queue, targets, watchBackoff, time, logger);
        var dispatcher = new MirrorDispatcher(
            queue,
            new LinkEventHandler(state, queue, watcher, logger),
            new RemoteServiceEventHandler(state, queue, logger),
            new MirrorWorkHandler(state, queue, store, new MirrorWriter(store), logger),
            new LinkStatusHandler(state, store, time),
            new Backoff(TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(30), Random.Shared),
            options.MaxAttempts,
            logger);
        var links = new StoreInformer<Link>(
            $"links of cluster '{store.Cluster}'",
            _ => ValueTask.FromResult(store),
            WellKnown.SystemNamespace,
            new LinkForwarder(queue, readiness),
            watchBackoff, time, logger);

        try
        {
            await Task.WhenAll(
                dispatcher.RunAsync(stoppingToken),
                links.RunAsync(stoppingToken),
                RepairPeriodicallyAsync(queue, stoppingToken)).ConfigureAwait(false);
        }
        finally
        {
            foreach (var link in state.Links.Values)
                TargetServiceWatcher.Stop(link);
        }
    }

    private async Task RepairPeriodicallyAsync(MirrorQueue queue, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.RepairInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                queue.Enqueue(new RepairRequested());
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private sealed class LinkForwarder(MirrorQueue queue, ReadinessState readiness) : IInformerHandler<Link>
    {
        public ValueTask OnSyncedAsync(IReadOnlyList<Link> items, CancellationToken cancellationToken)
        {
            queue.Enqueue(new LinksSynced(items));
            readiness.MarkLinksSynced();
            return ValueTask.CompletedTask;
        }

        public ValueTask OnUpsertAsync(Link item, CancellationToken cancellationToken)
        {
            queue.Enqueue(new LinkUpserted(item));
            return ValueTask.CompletedTask;
        }

        public ValueTask OnDeleteAsync(Link item, CancellationToken cancellationToken)
        {
            queue.Enqueue(new LinkDeleted(item));
            return ValueTask.CompletedTask;
        }

        public ValueTask OnErrorAsync(Exception error, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
