using System.Collections.Concurrent;
using System.Text;
using FedMesh.Core.Telemetry;

namespace FedMesh.Gateway.Routing;

/// <summary>
/// A service as the gateway sees it in one snapshot: whether it may be reached from other clusters, its healthy
/// endpoints (round robin), and its error bodies, rendered once per snapshot.
/// </summary>
internal sealed class GatewayService
{
    private readonly GatewayEndpoint[] _endpoints;
    private readonly ConcurrentDictionary<string, RequestStatsCell> _cells = new(StringComparer.Ordinal);
    private readonly string _cluster;
    private uint _next;

    public GatewayService(string displayName, bool reachable, GatewayEndpoint[] endpoints, string cluster)
    {
        DisplayName = displayName;
        Reachable = reachable;
        _cluster = cluster;
        _endpoints = endpoints;
        NotExportedBody = NotExported(displayName, cluster);
        NoEndpointBody = Encoding.UTF8.GetBytes($"service '{displayName}' has no healthy endpoint in cluster {cluster}\n");
    }

    /// <summary>"name.namespace".</summary>
    public string DisplayName { get; }

    /// <summary>Exported and not itself a mirror of another cluster's service.</summary>
    public bool Reachable { get; }

    public int EndpointCount => _endpoints.Length;

    public byte[] NotExportedBody { get; }

    public byte[] NoEndpointBody { get; }

    /// <summary>The next healthy endpoint in round-robin order; null when there is none.</summary>
    public GatewayEndpoint? Next()
    {
        var endpoints = _endpoints;
        if (endpoints.Length == 0)
        {
            return null;
        }
        var n = Interlocked.Increment(ref _next);
        return endpoints[(int)(n % (uint)endpoints.Length)];
    }

    /// <summary>Where requests from <paramref name="callerCluster"/> to this service are counted.</summary>
    public RequestStatsCell StatsCell(RequestStatsRecorder recorder, string callerCluster)
    {
        if (_cells.TryGetValue(callerCluster, out var cell))
            return cell;
        var dot = DisplayName.IndexOf('.');
        var name = dot < 0 ? DisplayName : DisplayName[..dot];
        var ns = dot < 0 ? "default" : DisplayName[(dot + 1)..];
        return _cells.GetOrAdd(callerCluster, recorder.Cell(new RequestKey(ns, name, name, callerCluster, _cluster)));
    }

    public static byte[] NotExported(string displayName, string cluster) =>
        Encoding.UTF8.GetBytes($"service '{displayName}' is not exported by cluster {cluster}\n");
}
