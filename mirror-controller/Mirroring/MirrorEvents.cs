using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>Everything the mirroring dispatcher handles. Watch callbacks and timers only ever enqueue these.</summary>
internal abstract record MirrorEvent;

/// <summary>Events that only do store work and can be merged while one is already waiting.</summary>
internal abstract record CoalescedMirrorEvent : MirrorEvent;

// Local links (LinkEventHandler).
internal sealed record LinksSynced(IReadOnlyList<Link> Links) : MirrorEvent;
internal sealed record LinkUpserted(Link Link) : MirrorEvent;
internal sealed record LinkDeleted(Link Link) : MirrorEvent;

// A link target's services (RemoteServiceEventHandler). Generation tells a link's current watch from older ones.
internal sealed record RemoteServicesSynced(string LinkName, long Generation, IReadOnlyList<Service> Services) : MirrorEvent;
internal sealed record RemoteServiceUpserted(string LinkName, long Generation, Service Service) : MirrorEvent;
internal sealed record RemoteServiceDeleted(string LinkName, long Generation, Service Service) : MirrorEvent;
internal sealed record RemoteWatchFailed(string LinkName, long Generation, RemoteFailure Failure) : MirrorEvent;

// Store work (MirrorWorkHandler): recomputed from the current state when handled, so retries are never stale.
internal sealed record ReconcileMirror(string TargetCluster, string Namespace, string RemoteService) : CoalescedMirrorEvent;
internal sealed record ReconcileCluster(string TargetCluster) : CoalescedMirrorEvent;
internal sealed record RepairRequested : CoalescedMirrorEvent;

// Link status (LinkStatusHandler).
internal sealed record RefreshLinkStatus(string LinkName) : CoalescedMirrorEvent;
