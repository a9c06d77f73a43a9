using System.Collections.Frozen;

namespace FedMesh.Proxy.Routing;

/// <summary>
/// The routing table compiled from one discovery snapshot: every accepted name of every service
/// (<c>svc</c> in the proxy's namespace, <c>svc.ns</c>, <c>svc.ns.svc</c>, <c>svc.ns.svc.cluster.local</c>)
/// maps to its route. Immutable; a new snapshot builds a new table that is swapped in atomically.
/// </summary>
internal sealed class RoutingTable
{
    private readonly FrozenDictionary<string, ServiceRoute>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public RoutingTable(string version, FrozenDictionary<string, ServiceRoute> routes, string knownServices, IReadOnlySet<string> identities)
    {
        Version = version;
        Routes = routes;
        KnownServices = knownServices;
        Identities = identities;
        _lookup = routes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>An empty table, before the first snapshot.</summary>
    public static RoutingTable Empty { get; } = new("", FrozenDictionary.Create<string, ServiceRoute>(StringComparer.OrdinalIgnoreCase), "(none)", new HashSet<string>());

    /// <summary>The snapshot version the table was compiled from.</summary>
    public string Version { get; }

    public FrozenDictionary<string, ServiceRoute> Routes { get; }

    /// <summary>"a.default, b.default", precomputed for error messages.</summary>
    public string KnownServices { get; }

    /// <summary>Every upstream identity an endpoint of this table connects to.</summary>
    public IReadOnlySet<string> Identities { get; }

    /// <summary>Finds the route for a request authority (<c>host</c> or <c>host:port</c>) without allocating.</summary>
    public bool TryFind(ReadOnlySpan<char> authority, out ServiceRoute? route)
    {
        var host = HostOf(authority);
        if (_lookup.TryGetValue(host, out var found))
        {
            route = found;
            return true;
        }
        route = null;
        return false;
    }

    /// <summary>The host part of an authority: port and a trailing root dot removed.</summary>
    public static ReadOnlySpan<char> HostOf(ReadOnlySpan<char> authority)
    {
        if (authority.Length > 0 && authority[0] == '[')
            return authority; // an IPv6 literal never names a service
        var colon = authority.LastIndexOf(':');
        var host = colon >= 0 ? authority[..colon] : authority;
        if (host.Length > 0 && host[^1] == '.')
            host = host[..^1];
        return host;
    }
}
