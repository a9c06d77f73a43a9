using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>What the dispatcher knows. Touched only by the dispatcher's task, so it needs no locks.</summary>
internal sealed class MirrorState
{
    public Dictionary<string, LinkMirrorState> Links { get; } = new(StringComparer.Ordinal);

    /// <summary>The local links have been listed once; before that nothing may be garbage-collected.</summary>
    public bool LinksSynced { get; set; }

    /// <summary>
    /// The link that mirrors <paramref name="targetCluster"/>: the mirroring link with the lowest name.
    /// Other links to the same cluster are reported as duplicates and mirror nothing.
    /// </summary>
    public LinkMirrorState? OwnerOf(string targetCluster)
    {
        LinkMirrorState? owner = null;
        foreach (var link in Links.Values)
        {
            if (!link.Link.Spec.Mirror || !string.Equals(link.TargetCluster, targetCluster, StringComparison.Ordinal))
                continue;
            if (owner is null || string.CompareOrdinal(link.Name, owner.Name) < 0)
                owner = link;
        }
        return owner;
    }

    public IEnumerable<LinkMirrorState> LinksTo(string targetCluster)
    {
        foreach (var link in Links.Values)
            if (string.Equals(link.TargetCluster, targetCluster, StringComparison.Ordinal))
                yield return link;
    }
}

/// <summary>One local Link and what its target's watch has shown so far.</summary>
internal sealed class LinkMirrorState(Link link)
{
    public Link Link { get; set; } = link;
    public string Name => Link.Name;
    public string TargetCluster => Link.Spec.TargetCluster;

    /// <summary>Generation of the running target watch; events of older watches are ignored.</summary>
    public long Generation { get; set; }

    public CancellationTokenSource? WatchStop { get; set; }

    /// <summary>Every service of the target cluster, selected or not, by "namespace/name".</summary>
    public Dictionary<string, Service> RemoteServices { get; } = new(StringComparer.Ordinal);

    /// <summary>The target's services have been listed at least once by the current watch.</summary>
    public bool RemoteSynced { get; set; }

    /// <summary>Why the target cannot be read right now, or null.</summary>
    public RemoteFailure? RemoteError { get; set; }

    /// <summary>Mirror names this link wanted but found taken by a service that is not its mirror.</summary>
    public SortedSet<string> Conflicts { get; } = new(StringComparer.Ordinal);

    public static string Key(string @namespace, string name) => @namespace + "/" + name;
}
