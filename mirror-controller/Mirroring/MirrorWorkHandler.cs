using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// Store work: one mirror, every mirror of one cluster, and the repair pass that finds every cluster
/// with mirrors so crashes and hand edits heal. Desired state is always recomputed from <see cref="MirrorState"/>.
/// </summary>
internal sealed partial class MirrorWorkHandler(MirrorState state, MirrorQueue queue, IClusterStore store, MirrorWriter writer, ILogger logger)
{
    public async Task HandleAsync(ReconcileMirror work, CancellationToken cancellationToken)
    {
        var owner = state.OwnerOf(work.TargetCluster);
        if (!state.LinksSynced || owner is { RemoteSynced: false })
            return; // Not knowing is not a reason to delete: the sync that follows reconciles everything.
        var mirrorName = WellKnown.MirrorName(work.RemoteService, work.TargetCluster);
        if (owner is not null
            && owner.RemoteServices.TryGetValue(LinkMirrorState.Key(work.Namespace, work.RemoteService), out var remote)
            && MirrorPlan.Selects(owner.Link, remote))
        {
            var ensured = await writer.EnsureAsync(owner.Link, remote, null, null, alreadyRead: false, cancellationToken).ConfigureAwait(false);
            NoteConflict(owner, work.Namespace, mirrorName, ensured);
        }
        else
        {
            owner?.Conflicts.Remove(work.Namespace + "/" + mirrorName);
            await writer.DeleteAsync(work.Namespace, mirrorName, work.TargetCluster, cancellationToken).ConfigureAwait(false);
        }
        RefreshStatusOfLinksTo(work.TargetCluster);
    }

    public async Task HandleAsync(ReconcileCluster work, CancellationToken cancellationToken)
    {
        var target = work.TargetCluster;
        var owner = state.OwnerOf(target);
        if (!state.LinksSynced || owner is { RemoteSynced: false })
            return;

        var desired = new Dictionary<string, Service>(StringComparer.Ordinal);
        if (owner is not null)
            foreach (var remote in owner.RemoteServices.Values)
                if (MirrorPlan.Selects(owner.Link, remote))
                    desired[remote.Namespace + "/" + WellKnown.MirrorName(remote.Name, target)] = remote;

        var services = ByKey(await store.ListAsync<Service>(null, cancellationToken).ConfigureAwait(false));
        var endpoints = ByKey(await store.ListAsync<Endpoints>(null, cancellationToken).ConfigureAwait(false));

        owner?.Conflicts.Clear();
        foreach (var (key, remote) in desired)
        {
            services.TryGetValue(key, out var currentService);
            endpoints.TryGetValue(key, out var currentEndpoints);
            var ensured = await writer.EnsureAsync(owner!.Link, remote, currentService, currentEndpoints, alreadyRead: true, cancellationToken).ConfigureAwait(false);
            NoteConflict(owner, remote.Namespace, WellKnown.MirrorName(remote.Name, target), ensured);
        }
        foreach (var (key, service) in services)
        {
            if (MirrorPlan.IsMirrorFrom(service, target) && !desired.ContainsKey(key))
            {
                LogDeletingMirror(logger, key, target);
                await writer.DeleteServiceAsync(service, target, cancellationToken).ConfigureAwait(false);
            }
        }
        foreach (var (key, endpoint) in endpoints)
            if (MirrorPlan.IsMirrorFrom(endpoint, target) && !desired.ContainsKey(key))
                await writer.DeleteEndpointsAsync(endpoint, target, cancellationToken).ConfigureAwait(false);
        RefreshStatusOfLinksTo(target);
    }

    public async Task HandleAsync(RepairRequested _, CancellationToken cancellationToken)
    {
        if (!state.LinksSynced)
            return;
        var clusters = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var service in await store.ListAsync<Service>(null, cancellationToken).ConfigureAwait(false))
            if (service.Metadata.Label(WellKnown.MirrorClusterLabel) is { Length: > 0 } cluster)
                clusters.Add(cluster);
        foreach (var endpoints in await store.ListAsync<Endpoints>(null, cancellationToken).ConfigureAwait(false))
            if (endpoints.Metadata.Label(WellKnown.MirrorClusterLabel) is { Length: > 0 } cluster)
                clusters.Add(cluster);
        foreach (var link in state.Links.Values)
            if (link.Link.Spec.Mirror && link.TargetCluster.Length > 0)
                clusters.Add(link.TargetCluster);
        LogRepair(logger, clusters.Count);
        foreach (var cluster in clusters)
            queue.Enqueue(new ReconcileCluster(cluster));
        foreach (var link in state.Links.Keys)
            queue.Enqueue(new RefreshLinkStatus(link));
    }

    private void NoteConflict(LinkMirrorState owner, string @namespace, string mirrorName, bool ensured)
    {
        var key = @namespace + "/" + mirrorName;
        if (ensured)
        {
            owner.Conflicts.Remove(key);
            return;
        }
        if (owner.Conflicts.Add(key))
            LogConflict(logger, key, owner.TargetCluster);
    }

    private void RefreshStatusOfLinksTo(string targetCluster)
    {
        foreach (var link in state.LinksTo(targetCluster))
            queue.Enqueue(new RefreshLinkStatus(link.Name));
    }

    private static Dictionary<string, T> ByKey<T>(IReadOnlyList<T> items) where T : Resource
    {
        var map = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
        foreach (var item in items)
            map[item.Namespace + "/" + item.Name] = item;
        return map;
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Information, Message = "Deleting mirror {Mirror} of cluster {Cluster}: no link or exported remote service wants it")]
    private static partial void LogDeletingMirror(ILogger logger, string mirror, string cluster);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "Cannot mirror into {Mirror} from cluster {Cluster}: a service or endpoints of that name exist and are not its mirror; rename one of them")]
    private static partial void LogConflict(ILogger logger, string mirror, string cluster);

    [LoggerMessage(EventId = 212, Level = LogLevel.Debug, Message = "Repair pass over {Count} clusters")]
    private static partial void LogRepair(ILogger logger, int count);
}
