using FedMesh.Proxy.LoadBalancing;

namespace FedMesh.Proxy.Routing;

/// <summary>A service's healthy endpoints and the balancer choosing among them.</summary>
internal sealed class BackendSet
{
    public BackendSet(string service, string @namespace, UpstreamEndpoint[] endpoints, ILoadBalancer balancer, int total = -1)
    {
        Total = total < 0 ? endpoints.Length : total;
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

    /// <summary>Every endpoint the snapshot lists, healthy or not: the denominator of the healthy share.</summary>
    public int Total { get; }

    /// <summary>Percent of <see cref="Total"/> that is healthy in the snapshot and not ejected here (0 when there are none).</summary>
    public int HealthyPercent
    {
        get
        {
            if (Total == 0)
                return 0;
            var open = 0;
            foreach (var e in Endpoints)
                if (e.State.Accrual.IsOpen)
                    open++;
            return open * 100 / Total;
        }
    }

    /// <summary>An open endpoint not tried yet by this request, or null.</summary>
    public UpstreamEndpoint? Pick(ref TriedEndpoints tried) =>
        Balancer is PeakEwmaBalancer p2c ? p2c.Pick(Endpoints, ref tried) : PickFallback(ref tried);

    /// <summary>An endpoint of this set whose ejection is over, claimed for its probation request (P2C balancer only).</summary>
    public UpstreamEndpoint? ClaimProbation(ref TriedEndpoints tried) =>
        Balancer is PeakEwmaBalancer p2c ? p2c.ClaimProbation(Endpoints, ref tried) : null;

    private UpstreamEndpoint? PickFallback(ref TriedEndpoints tried)
    {
        var e = Balancer.Pick(Endpoints);
        return e is null || tried.Contains(e) ? null : e;
    }

    public UpstreamEndpoint? Pick() => Balancer.Pick(Endpoints);
}
