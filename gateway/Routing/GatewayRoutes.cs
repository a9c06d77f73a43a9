using System.Collections.Frozen;
using FedMesh.Core.Resources;

namespace FedMesh.Gateway.Routing;

/// <summary>One compiled discovery snapshot: services by host name and the clusters allowed in. Immutable.</summary>
internal sealed class GatewayRoutes
{
    private readonly FrozenDictionary<string, GatewayService> _services;
    private readonly FrozenDictionary<string, GatewayService>.AlternateLookup<ReadOnlySpan<char>> _byHost;
    private readonly FrozenSet<string> _linked;

    public GatewayRoutes(string version, FrozenDictionary<string, GatewayService> services, FrozenSet<string> linkedClusters)
    {
        Version = version;
        _services = services;
        _byHost = services.GetAlternateLookup<ReadOnlySpan<char>>();
        _linked = linkedClusters;
    }

    public string Version { get; }

    public IReadOnlySet<string> LinkedClusters => _linked;

    public int ServiceCount => _services.Count;

    public bool IsLinked(string cluster) => _linked.Contains(cluster);

    /// <summary>The service a Host header names (port ignored, namespace "default" when absent), or null.</summary>
    public GatewayService? Find(ReadOnlySpan<char> host) =>
        _byHost.TryGetValue(HostName.ServicePart(host), out var service) ? service : null;

    /// <summary>"name.namespace" for a host no service matches (error path only).</summary>
    public static string DisplayNameOf(ReadOnlySpan<char> host)
    {
        var name = HostName.ServicePart(host);
        return name.IndexOf('.') < 0 ? $"{name}.{ObjectMeta.DefaultNamespace}" : name.ToString();
    }
}
