using FedMesh.Core.Resources;
using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.Resilience;

namespace FedMesh.Proxy.Routing;

/// <summary>One healthy endpoint of a backend, with everything a request to it needs, built once per snapshot.</summary>
internal sealed class UpstreamEndpoint
{
    public UpstreamEndpoint(string address, string identity, string cluster, string? zone, bool viaGateway,
        HttpMessageInvoker invoker, UpstreamTransformer transformer)
    {
        Address = address;
        Identity = identity;
        Cluster = cluster;
        Zone = zone;
        ViaGateway = viaGateway;
        DestinationPrefix = "https://" + address;
        Invoker = invoker;
        Transformer = transformer;
    }

    /// <summary>host:port of the peer's inbound listener or of the remote gateway.</summary>
    public string Address { get; }

    /// <summary>SPIFFE id the server must present.</summary>
    public string Identity { get; }

    /// <summary>Cluster the endpoint lives in (reported in <c>x-fedmesh-upstream-cluster</c>).</summary>
    public string Cluster { get; }

    public string? Zone { get; }

    /// <summary>The endpoint is a remote cluster's gateway.</summary>
    public bool ViaGateway { get; }

    /// <summary><c>https://host:port</c>, the forwarder's destination prefix.</summary>
    public string DestinationPrefix { get; }

    /// <summary>The pooled client shared by every endpoint with this identity.</summary>
    public HttpMessageInvoker Invoker { get; }

    public UpstreamTransformer Transformer { get; }

    /// <summary>Latency, load and failure accrual, kept across snapshots while the endpoint persists.</summary>
    public required EndpointState State { get; init; }

    /// <summary>Limits failure warnings for this endpoint; set by the builder.</summary>
    public LogThrottle? FailureLog { get; init; }

    private byte[]? _clusterField;

    /// <summary>The <c>x-fedmesh-upstream-cluster</c> field line its responses get, as bytes (the relay's decoration).</summary>
    public byte[] ClusterField => _clusterField ??= System.Text.Encoding.ASCII.GetBytes($"{WellKnown.UpstreamClusterHeader}: {Cluster}\r\n");
}
