using FedMesh.Proxy.LoadBalancing;

namespace FedMesh.Proxy.Routing;

/// <summary>A service's healthy endpoints and the balancer choosing among them.</summary>
internal sealed class BackendSet
{
    public BackendSet(string service, string @namespace, UpstreamEndpoint[] endpoints, ILoadBalancer balancer)
    {
        Service = service;
        Namespace = @namespace;
        DisplayName = service + "." + @namespace;
        Endpoints = endpoints;
        Balancer = balancer;
    }

    public string Service { get; }
    public string Namespace { get; }

    /// <summary><c>service.namespace</c>, for messages.</summary>
    public string DisplayName { get; }

    /// <summary>Healthy endpoints only.</summary>
    public UpstreamEndpoint[] Endpoints { get; }

    public ILoadBalancer Balancer { get; }

    public UpstreamEndpoint? Pick() => Balancer.Pick(Endpoints);
}
