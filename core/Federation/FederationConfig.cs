namespace FedMesh.Core.Federation;

/// <summary>
/// The federation: <c>$FEDMESH_HOME/config.yaml</c>. Clusters with their store and the ports their
/// parts listen on (chosen once, when the federation is created, so links stay valid across restarts).
/// </summary>
public sealed class FederationConfig
{
    public string ApiVersion { get; set; } = "fedmesh.io/v1alpha1";
    public string Kind { get; set; } = "Federation";
    public string TrustDomain { get; set; } = "fedmesh.local";
    public List<ClusterConfig> Clusters { get; set; } = new();

    public ClusterConfig? Find(string name)
    {
        foreach (var c in Clusters)
            if (string.Equals(c.Name, name, StringComparison.Ordinal))
                return c;
        return null;
    }
}

public sealed class ClusterConfig
{
    public string Name { get; set; } = "";

    /// <summary>"local" (a store directory) or "kubernetes" (a kubeconfig context).</summary>
    public string Type { get; set; } = "local";

    /// <summary>Local: the store directory, relative to the federation home unless absolute.</summary>
    public string? Store { get; set; }

    /// <summary>Kubernetes: the kubeconfig context and file.</summary>
    public string? Context { get; set; }
    public string? Kubeconfig { get; set; }

    /// <summary>Kubernetes: the API server URL other clusters' controllers use (default: the kubeconfig's server).</summary>
    public string? ApiServer { get; set; }

    public ControllerPorts Controller { get; set; } = new();
    public GatewayPorts Gateway { get; set; } = new();
    public List<WorkloadConfig> Workloads { get; set; } = new();
}

public sealed class ControllerPorts
{
    /// <summary>gRPC (HTTP/2 cleartext on loopback): discovery and identity.</summary>
    public int GrpcPort { get; set; }
    /// <summary>HTTP/1.1: /ready, /metrics.</summary>
    public int AdminPort { get; set; }
}

public sealed class GatewayPorts
{
    /// <summary>mTLS listener for other clusters' proxies.</summary>
    public int Port { get; set; }
    public int AdminPort { get; set; }
}

/// <summary>A workload of the local federation: an app process with its proxy.</summary>
public sealed class WorkloadConfig
{
    public string Name { get; set; } = "";
    public string Namespace { get; set; } = "default";
    /// <summary>The service the workload's instances back.</summary>
    public string Service { get; set; } = "";
    public bool Exported { get; set; }
    public int Replicas { get; set; } = 1;
    /// <summary>The app to run: "echo" (built in).</summary>
    public string App { get; set; } = "echo";
    public List<InstancePorts> Instances { get; set; } = new();
}

public sealed class InstancePorts
{
    public string Name { get; set; } = "";
    public int AppPort { get; set; }
    public int OutboundPort { get; set; }
    public int InboundPort { get; set; }
    public int AdminPort { get; set; }
}
