namespace FedMesh.Core.Resources;

/// <summary>A service: Kubernetes' own kind (apiVersion v1), the same shape in the local store.</summary>
public sealed class Service : Resource<ServiceSpec, ServiceStatus>
{
    public Service() { ApiVersion = "v1"; Kind = "Service"; }
}

public sealed class ServiceSpec
{
    public List<ServicePort> Ports { get; set; } = new();
    public Dictionary<string, string>? Selector { get; set; }
}

public sealed class ServicePort
{
    public string? Name { get; set; }
    public int Port { get; set; }
    public int? TargetPort { get; set; }
    public string? Protocol { get; set; }
}

public sealed class ServiceStatus
{
}

/// <summary>
/// The endpoints of one service. Unlike Kubernetes' Endpoints, each endpoint carries its own
/// port and identity (on one machine every workload listens on its own loopback port).
/// A mirrored service has one endpoint: the remote cluster's gateway.
/// </summary>
public sealed class Endpoints : Resource<EndpointsSpec, EndpointsStatus>
{
    public Endpoints() { ApiVersion = WellKnown.ApiVersion; Kind = "Endpoints"; }
}

public sealed class EndpointsSpec
{
    public List<EndpointEntry> Endpoints { get; set; } = new();
}

public sealed class EndpointEntry
{
    /// <summary>host:port the endpoint accepts mTLS traffic on.</summary>
    public string Address { get; set; } = "";

    /// <summary>Workload instance name (unique in the cluster); empty for a gateway.</summary>
    public string? Instance { get; set; }

    /// <summary>SPIFFE id the endpoint presents.</summary>
    public string? Identity { get; set; }

    /// <summary>Cluster the endpoint runs in.</summary>
    public string? Cluster { get; set; }

    public string? Zone { get; set; }
    public bool Ready { get; set; } = true;
    public int Weight { get; set; } = 1;

    /// <summary>The endpoint is a remote cluster's gateway (the service is a mirror).</summary>
    public bool ViaGateway { get; set; }
}

public sealed class EndpointsStatus
{
}
