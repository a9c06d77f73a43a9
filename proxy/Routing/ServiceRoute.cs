using System.Collections.Concurrent;
using FedMesh.Core.Telemetry;

namespace FedMesh.Proxy.Routing;

/// <summary>What the proxy does with requests for one service name.</summary>
internal sealed class ServiceRoute(BackendSet self, IBackendPolicy policy, RequestStatsRecorder stats, string sourceCluster)
{
    // Endpoint objects live as long as the routing table, and so does this route: no unbounded growth.
    private readonly ConcurrentDictionary<UpstreamEndpoint, RequestStatsCell> _cells = new();

    /// <summary>The service itself (its own endpoints).</summary>
    public BackendSet Self { get; } = self;

    /// <summary>Chooses the backend per request (the service itself, a split, later failover).</summary>
    public IBackendPolicy Policy { get; } = policy;

    /// <summary>Where requests of this route through <paramref name="endpoint"/> of <paramref name="backend"/> are counted.</summary>
    public RequestStatsCell StatsCell(BackendSet backend, UpstreamEndpoint endpoint) =>
        _cells.TryGetValue(endpoint, out var cell) ? cell : _cells.GetOrAdd(endpoint,
            stats.Cell(new RequestKey(Self.Namespace, Self.Service, backend.Service, sourceCluster, endpoint.Cluster)));
}
