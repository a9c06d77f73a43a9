using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.LoadBalancing;

/// <summary>Round robin over the healthy endpoints; lock-free.</summary>
internal sealed class RoundRobinBalancer : ILoadBalancer
{
    private int _next = -1;

    public UpstreamEndpoint? Pick(UpstreamEndpoint[] endpoints)
    {
        var count = endpoints.Length;
        if (count == 0)
            return null;
        if (count == 1)
            return endpoints[0];
        var index = (uint)Interlocked.Increment(ref _next) % (uint)count;
        return endpoints[index];
    }
}
