namespace FedMesh.Proxy.Routing;

/// <summary>What the proxy does with requests for one service name.</summary>
internal sealed class ServiceRoute(BackendSet self, IBackendPolicy policy)
{
    /// <summary>The service itself (its own endpoints).</summary>
    public BackendSet Self { get; } = self;

    /// <summary>Chooses the backend per request (the service itself, a split, later failover).</summary>
    public IBackendPolicy Policy { get; } = policy;
}
