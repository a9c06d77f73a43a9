using FedMesh.Core.Resources;
using FedMesh.MirrorController.Targets;
using FedMesh.MirrorController.Watching;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>Starts and stops the watch of a link target's services; what it sees goes on the queue, tagged with a generation.</summary>
internal sealed class TargetServiceWatcher(MirrorQueue queue, ITargetStoreResolver targets, Backoff backoff, TimeProvider time, ILogger logger)
{
    private long _generation;

    public void Start(LinkMirrorState link, CancellationToken stopping)
    {
        Stop(link);
        var generation = Interlocked.Increment(ref _generation);
        link.Generation = generation;
        link.RemoteServices.Clear();
        link.RemoteSynced = false;
        link.RemoteError = null;
        link.Conflicts.Clear();
        var stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        link.WatchStop = stop;

        var snapshot = link.Link;
        var handler = new Forwarder(queue, snapshot, generation);
        var informer = new StoreInformer<Service>(
            $"services of cluster '{snapshot.Spec.TargetCluster}' (link {snapshot.Name})",
            ct => targets.OpenAsync(snapshot, ct),
            null, handler, backoff, time, logger);
        _ = Task.Run(() => informer.RunAsync(stop.Token), CancellationToken.None);
    }

    public static void Stop(LinkMirrorState link)
    {
        if (link.WatchStop is null)
            return;
        link.WatchStop.Cancel();
        link.WatchStop.Dispose();
        link.WatchStop = null;
        link.Generation = 0;
    }

    private sealed class Forwarder(MirrorQueue queue, Link link, long generation) : IInformerHandler<Service>
    {
        public ValueTask OnSyncedAsync(IReadOnlyList<Service> items, CancellationToken cancellationToken) =>
            Put(new RemoteServicesSynced(link.Name, generation, items));

        public ValueTask OnUpsertAsync(Service item, CancellationToken cancellationToken) =>
            Put(new RemoteServiceUpserted(link.Name, generation, item));

        public ValueTask OnDeleteAsync(Service item, CancellationToken cancellationToken) =>
            Put(new RemoteServiceDeleted(link.Name, generation, item));

        public ValueTask OnErrorAsync(Exception error, CancellationToken cancellationToken) =>
            Put(new RemoteWatchFailed(link.Name, generation, RemoteFailure.From(error, link)));

        private ValueTask Put(MirrorEvent mirrorEvent)
        {
            queue.Enqueue(mirrorEvent);
            return ValueTask.CompletedTask;
        }
    }
}
