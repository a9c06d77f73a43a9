using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.LoadBalancing;

/// <summary>
/// Picks one endpoint of a backend for a request. One instance per backend per routing table;
/// called concurrently on the hot path, so implementations must not lock for long nor allocate.
/// </summary>
internal interface ILoadBalancer
{
    /// <summary>The endpoint to send the request to, or null when <paramref name="endpoints"/> is empty.</summary>
    UpstreamEndpoint? Pick(UpstreamEndpoint[] endpoints);
}
