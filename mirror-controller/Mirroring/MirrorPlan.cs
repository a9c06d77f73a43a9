using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>What a link's mirrors should look like: pure functions of the link and the remote service.</summary>
internal static class MirrorPlan
{
    private static readonly Dictionary<string, string> DefaultSelector = new(StringComparer.Ordinal) { [WellKnown.ExportedLabel] = "true" };

    /// <summary>
    /// The link selects the remote service: its matchLabels, or the exported label when it has none.
    /// A mirror is never mirrored again, whatever the selector says.
    /// </summary>
    public static bool Selects(Link link, Service remote)
    {
        if (remote.Metadata.Label(WellKnown.MirrorClusterLabel) is not null)
            return false;
        var selector = link.Spec.Selector?.MatchLabels is { Count: > 0 } labels ? labels : DefaultSelector;
        foreach (var (key, value) in selector)
            if (!string.Equals(remote.Metadata.Label(key), value, StringComparison.Ordinal))
                return false;
        return true;
    }

    public static Service BuildService(Link link, Service remote)
    {
        var mirror = new Service();
        mirror.Metadata.Name = WellKnown.MirrorName(remote.Name, link.Spec.TargetCluster);
        mirror.Metadata.Namespace = remote.Namespace;
        mirror.Metadata.Labels = MirrorLabels(remote.Name, link.Spec.TargetCluster);
        foreach (var port in remote.Spec.Ports)
            mirror.Spec.Ports.Add(new ServicePort { Name = port.Name, Port = port.Port, TargetPort = port.TargetPort, Protocol = port.Protocol });
        return mirror;
    }

    public static Endpoints BuildEndpoints(Link link, Service remote)
    {
        var endpoints = new Endpoints();
        endpoints.Metadata.Name = WellKnown.MirrorName(remote.Name, link.Spec.TargetCluster);
        endpoints.Metadata.Namespace = remote.Namespace;
        endpoints.Metadata.Labels = MirrorLabels(remote.Name, link.Spec.TargetCluster);
        endpoints.Spec.Endpoints.Add(new EndpointEntry
        {
            Address = link.Spec.GatewayAddress,
            Identity = link.Spec.GatewayIdentity,
            Cluster = link.Spec.TargetCluster,
            ViaGateway = true,
            Ready = true,
            Weight = 1,
        });
        return endpoints;
    }

    /// <summary>The object is a mirror from <paramref name="targetCluster"/> (ours to change or delete).</summary>
    public static bool IsMirrorFrom(Resource resource, string targetCluster) =>
        string.Equals(resource.Metadata.Label(WellKnown.MirrorClusterLabel), targetCluster, StringComparison.Ordinal);

    public static bool SameService(Service current, Service desired) =>
        SameLabels(current, desired)
        && current.Spec.Selector is null or { Count: 0 }
        && current.Spec.Ports.Count == desired.Spec.Ports.Count
        && current.Spec.Ports.Zip(desired.Spec.Ports).All(p =>
            p.First.Name == p.Second.Name && p.First.Port == p.Second.Port && p.First.TargetPort == p.Second.TargetPort && p.First.Protocol == p.Second.Protocol);

    public static bool SameEndpoints(Endpoints current, Endpoints desired) =>
        SameLabels(current, desired)
        && current.Spec.Endpoints.Count == desired.Spec.Endpoints.Count
        && current.Spec.Endpoints.Zip(desired.Spec.Endpoints).All(e =>
            e.First.Address == e.Second.Address && e.First.Identity == e.Second.Identity && e.First.Cluster == e.Second.Cluster
            && e.First.ViaGateway == e.Second.ViaGateway && e.First.Ready == e.Second.Ready && e.First.Weight == e.Second.Weight
            && e.First.Zone == e.Second.Zone && e.First.Instance == e.Second.Instance);

    private static bool SameLabels(Resource current, Resource desired)
    {
        var a = current.Metadata.Labels ?? [];
        var b = desired.Metadata.Labels ?? [];
        return a.Count == b.Count && b.All(kv => a.TryGetValue(kv.Key, out var v) && v == kv.Value);
    }

    private static Dictionary<string, string> MirrorLabels(string remoteService, string targetCluster) => new(StringComparer.Ordinal)
    {
        [WellKnown.MirrorOfLabel] = remoteService,
        [WellKnown.MirrorClusterLabel] = targetCluster,
    };
}
