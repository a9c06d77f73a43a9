using FedMesh.Core.Resources;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// Local Links appear, change and go: start or restart the target watch, and queue the store work
/// their change implies. Only spec changes matter here; status writes (ours or the prober's) are ignored.
/// </summary>
internal sealed partial class LinkEventHandler(MirrorState state, MirrorQueue queue, TargetServiceWatcher watcher, ILogger logger)
{
    public void Handle(LinksSynced synced, CancellationToken stopping)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in synced.Links)
        {
            seen.Add(link.Name);
            Upsert(link, stopping);
        }
        foreach (var name in state.Links.Keys.Where(n => !seen.Contains(n)).ToList())
            Remove(name);
        state.LinksSynced = true;
        // Start-up repair: mirrors of links deleted while the controller was down go now.
        queue.Enqueue(new RepairRequested());
    }

    public void Handle(LinkUpserted upserted, CancellationToken stopping) => Upsert(upserted.Link, stopping);

    public void Handle(LinkDeleted deleted) => Remove(deleted.Link.Name);

    private void Upsert(Link link, CancellationToken stopping)
    {
        if (!state.Links.TryGetValue(link.Name, out var current))
        {
            current = new LinkMirrorState(link);
            state.Links[link.Name] = current;
            LogLinkAdded(logger, link.Name, link.Spec.TargetCluster, link.Spec.Mirror);
            if (link.Spec.Mirror)
                watcher.Start(current, stopping);
            // A duplicate link may have changed which link owns the target.
            QueueTargetWork(link.Spec.TargetCluster);
            return;
        }

        var before = current.Link.Spec;
        var after = link.Spec;
        current.Link = link;
        var restart = before.TargetCluster != after.TargetCluster || before.Mirror != after.Mirror || before.CredentialsSecret != after.CredentialsSecret;
        var reshaped = before.GatewayAddress != after.GatewayAddress || before.GatewayIdentity != after.GatewayIdentity || !SameSelector(before.Selector, after.Selector);
        if (restart)
        {
            LogLinkRestarted(logger, link.Name, after.TargetCluster, after.Mirror);
            TargetServiceWatcher.Stop(current);
            current.RemoteServices.Clear();
            current.RemoteSynced = false;
            current.RemoteError = null;
            current.Conflicts.Clear();
            if (after.Mirror)
                watcher.Start(current, stopping);
            QueueTargetWork(before.TargetCluster);
        }
        if (restart || reshaped)
            QueueTargetWork(after.TargetCluster);
        else
            queue.Enqueue(new RefreshLinkStatus(link.Name));
    }

    private void Remove(string name)
    {
        if (!state.Links.Remove(name, out var removed))
            return;
        LogLinkRemoved(logger, name, removed.TargetCluster);
        TargetServiceWatcher.Stop(removed);
        QueueTargetWork(removed.TargetCluster);
    }

    private void QueueTargetWork(string targetCluster)
    {
        if (targetCluster.Length > 0)
            queue.Enqueue(new ReconcileCluster(targetCluster));
        foreach (var link in state.LinksTo(targetCluster))
            queue.Enqueue(new RefreshLinkStatus(link.Name));
    }

    private static bool SameSelector(LabelSelector? a, LabelSelector? b)
    {
        var x = a?.MatchLabels ?? [];
        var y = b?.MatchLabels ?? [];
        return x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && v == kv.Value);
    }

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Link {Link} to cluster {Cluster} added (mirror: {Mirror})")]
    private static partial void LogLinkAdded(ILogger logger, string link, string cluster, bool mirror);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Link {Link} now targets cluster {Cluster} (mirror: {Mirror}); restarting its watch")]
    private static partial void LogLinkRestarted(ILogger logger, string link, string cluster, bool mirror);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Link {Link} to cluster {Cluster} removed; its mirrors go")]
    private static partial void LogLinkRemoved(ILogger logger, string link, string cluster);
}
