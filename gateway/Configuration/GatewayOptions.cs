namespace FedMesh.Gateway.Configuration;

/// <summary>
/// Settings of one cluster's gateway, bound from the command line
/// (<c>--Cluster west --TrustDomain fedmesh.local --Listen 127.0.0.1:7001 --AdminListen 127.0.0.1:7002
/// --Controller http://127.0.0.1:7000 --TokenFile /path/bootstrap-token</c>).
/// </summary>
public sealed class GatewayOptions
{
    /// <summary>The cluster this gateway is the door of; a DNS label.</summary>
    public string Cluster { get; set; } = "";

    /// <summary>The federation's trust domain, e.g. <c>fedmesh.local</c>.</summary>
    public string TrustDomain { get; set; } = "";

    /// <summary>host:port of the mTLS listener linked clusters' proxies connect to.</summary>
    public string Listen { get; set; } = "";

    /// <summary>host:port of the plain HTTP admin listener (<c>/ready</c>, <c>/live</c>).</summary>
    public string AdminListen { get; set; } = "";

    /// <summary>URL of the cluster controller's gRPC endpoint (discovery and identity).</summary>
    public string Controller { get; set; } = "";

    /// <summary>File holding the cluster's bootstrap token, presented when asking for a certificate.</summary>
    public string TokenFile { get; set; } = "";
}
