using System.Globalization;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// Writes a Link's mirroring status (mirroredServices and the Ready condition) with compare-and-swap.
/// Never writes the spec nor the prober's fields, and writes nothing when nothing changed.
/// </summary>
internal sealed class LinkStatusHandler(MirrorState state, IClusterStore store, TimeProvider time)
{
    public const string ReadyCondition = "Ready";
    private const string SyncingReason = "Syncing";

    public async Task HandleAsync(RefreshLinkStatus refresh, CancellationToken cancellationToken)
    {
        if (!state.Links.TryGetValue(refresh.LinkName, out var link))
            return;
        var count = 0;
        var owner = state.OwnerOf(link.TargetCluster);
        if (ReferenceEquals(owner, link))
            foreach (var service in await store.ListAsync<Service>(null, cancellationToken).ConfigureAwait(false))
                if (MirrorPlan.IsMirrorFrom(service, link.TargetCluster))
                    count++;
        var (status, reason, message) = Describe(link, owner, count);

        var stored = await store.GetAsync<Link>(link.Link.Namespace, link.Name, cancellationToken).ConfigureAwait(false);
        if (stored is null || Matches(stored.Status, count, status, reason, message))
            return;
        // While a (re)started watch lists the target, keep the last known status: a restart must write nothing.
        if (reason == SyncingReason && stored.Status?.Conditions?.Exists(c => c.Type == ReadyCondition) == true)
            return;
        var now = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        await store.MutateAsync<Link>(link.Link.Namespace, link.Name, current =>
        {
            if (current is null)
                return null; // Deleted meanwhile: nothing to report on (and null with nothing stored writes nothing).
            current.Status ??= new LinkStatus();
            current.Status.MirroredServices = count;
            current.Status.Conditions ??= [];
            var condition = current.Status.Conditions.Find(c => c.Type == ReadyCondition);
            if (condition is null)
            {
                condition = new Condition { Type = ReadyCondition };
                current.Status.Conditions.Add(condition);
            }
            if (condition.Status != status || condition.LastTransitionTime is null)
                condition.LastTransitionTime = now;
            condition.Status = status;
            condition.Reason = reason;
            condition.Message = message;
            return current;
        }, cancellationToken).ConfigureAwait(false);
    }

    private static (string Status, string Reason, string Message) Describe(LinkMirrorState link, LinkMirrorState? owner, int count)
    {
        var target = link.TargetCluster;
        if (!link.Link.Spec.Mirror)
            return ("True", "MirroringDisabled", $"admits traffic from cluster '{target}'; mirrors nothing (spec.mirror is false)");
        if (!ReferenceEquals(owner, link))
            return ("False", "DuplicateTarget", $"link '{owner?.Name}' already mirrors cluster '{target}'; delete one of the two links");
        if (link.RemoteError is { } failure)
            return ("False", failure.Reason, failure.Message);
        if (!link.RemoteSynced)
            return ("Unknown", SyncingReason, $"listing the services of cluster '{target}'");
        if (link.Conflicts.Count > 0)
            return ("False", "MirrorConflict", $"{link.Conflicts.Count} mirror name(s) taken by other services: {string.Join(", ", link.Conflicts.Take(5))}");
        return ("True", "Mirrored", $"{count} service(s) mirrored from cluster '{target}'");
    }

    private static bool Matches(LinkStatus? status, int count, string conditionStatus, string reason, string message)
    {
        if (status is null || status.MirroredServices != count)
            return false;
        var condition = status.Conditions?.Find(c => c.Type == ReadyCondition);
        return condition is not null && condition.Status == conditionStatus && condition.Reason == reason && condition.Message == message && condition.LastTransitionTime is not null;
    }
}
