using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.LoadBalancing;

/// <summary>The endpoints one request has already tried (at most a few), so a retry goes elsewhere. No allocation.</summary>
internal struct TriedEndpoints
{
    private UpstreamEndpoint? _a, _b, _c;

    public readonly bool Contains(UpstreamEndpoint endpoint) =>
        ReferenceEquals(_a, endpoint) || ReferenceEquals(_b, endpoint) || ReferenceEquals(_c, endpoint);

    public void Add(UpstreamEndpoint endpoint)
    {
        if (_a is null) _a = endpoint;
        else if (_b is null) _b = endpoint;
        else _c = endpoint;
    }
}
