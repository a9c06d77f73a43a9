using FedMesh.Core.Resources;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>What a link target's service watch saw: update the known remote services, queue the store work.</summary>
internal sealed partial class RemoteServiceEventHandler(MirrorState state, MirrorQueue queue, ILogger logger)
{
    public void Handle(RemoteServicesSynced synced)
    {
        if (Current(synced.LinkName, synced.Generation) is not { } link)
            return;
        link.RemoteServices.Clear();
        foreach (var service in synced.Services)
            link.RemoteServices[LinkMirrorState.Key(service.Namespace, service.Name)] = service;
        link.RemoteSynced = true;
        link.RemoteError = null;
        LogSynced(logger, link.TargetCluster, synced.Services.Count, link.Name);
        queue.Enqueue(new ReconcileCluster(link.TargetCluster));
        queue.Enqueue(new RefreshLinkStatus(link.Name));
    }

    public void Handle(RemoteServiceUpserted upserted)
    {
        if (Current(upserted.LinkName, upserted.Generation) is not { } link)
            return;
        var service = upserted.Service;
        link.RemoteServices[LinkMirrorState.Key(service.Namespace, service.Name)] = service;
        QueueMirror(link, service);
    }

    public void Handle(RemoteServiceDeleted deleted)
    {
        if (Current(deleted.LinkName, deleted.Generation) is not { } link)
            return;
        var service = deleted.Service;
        link.RemoteServices.Remove(LinkMirrorState.Key(service.Namespace, service.Name));
        QueueMirror(link, service);
    }

    public void Handle(RemoteWatchFailed failed)
    {
        if (Current(failed.LinkName, failed.Generation) is not { } link)
            return;
        // Existing mirrors stay: traffic through the gateway may still work, and the next sync corrects them.
        link.RemoteError = failed.Failure;
        queue.Enqueue(new RefreshLinkStatus(link.Name));
    }

    private void QueueMirror(LinkMirrorState link, Service service)
    {
        if (link.RemoteSynced)
            queue.Enqueue(new ReconcileMirror(link.TargetCluster, service.Namespace, service.Name));
    }

    private LinkMirrorState? Current(string linkName, long generation) =>
        state.Links.TryGetValue(linkName, out var link) && link.Generation == generation && generation != 0 ? link : null;

    [LoggerMessage(EventId = 220, Level = LogLevel.Information, Message = "Listed {Count} services of cluster {Cluster} for link {Link}")]
    private static partial void LogSynced(ILogger logger, string cluster, int count, string link);
}
