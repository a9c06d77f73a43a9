namespace FedMesh.Core.Resources;

/// <summary>
/// A link from this cluster to <see cref="LinkSpec.TargetCluster"/>. It lives in the cluster that
/// mirrors (namespace fedmesh-system, named after the target). With <see cref="LinkSpec.Mirror"/>
/// false the link only admits the target's traffic at this cluster's gateway (the far side of a
/// one-way link) and mirrors nothing.
/// </summary>
public sealed class Link : Resource<LinkSpec, LinkStatus>
{
    public Link() { ApiVersion = WellKnown.ApiVersion; Kind = "Link"; }
}

public sealed class LinkSpec
{
    public string TargetCluster { get; set; } = "";
    public string GatewayAddress { get; set; } = "";
    public string GatewayIdentity { get; set; } = "";
    public bool Mirror { get; set; } = true;
    public ProbeSpec? Probe { get; set; }
    public LabelSelector? Selector { get; set; }

    /// <summary>Kubernetes mode: the Secret holding credentials for the target cluster's API.</summary>
    public string? CredentialsSecret { get; set; }
}

public sealed class ProbeSpec
{
    public string Path { get; set; } = WellKnown.GatewayProbePath;
    public string Period { get; set; } = "1s";
    public string Timeout { get; set; } = "500ms";
    public int FailureThreshold { get; set; } = 3;
}

public sealed class LabelSelector
{
    public Dictionary<string, string>? MatchLabels { get; set; }
}

public sealed class LinkStatus
{
    public bool? Alive { get; set; }
    public string? LastProbe { get; set; }
    public LatencySummary? Latency { get; set; }
    public int MirroredServices { get; set; }
    public List<Condition>? Conditions { get; set; }
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed class LatencySummary
{
    public double P50 { get; set; }
    public double P95 { get; set; }
    public double P99 { get; set; }
}
