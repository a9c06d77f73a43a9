namespace FedMesh.Proxy.Routing;

/// <summary>
/// Chooses the backend of a service for one request: the service itself, a weighted split,
/// and (later) a failover target. One instance per service per routing table.
/// </summary>
internal interface IBackendPolicy
{
    BackendSet Choose();
}

/// <summary>All traffic to one backend (a service without a route).</summary>
internal sealed class SingleBackendPolicy(BackendSet backend) : IBackendPolicy
{
    public BackendSet Choose() => backend;
}
