namespace FedMesh.Core.Resources;

/// <summary>Ordered failover targets for a service, with the triggers that move traffic on.</summary>
public sealed class FailoverPolicy : Resource<FailoverPolicySpec, FailoverPolicyStatus>
{
    public FailoverPolicy() { ApiVersion = WellKnown.ApiVersion; Kind = "FailoverPolicy"; }
}

public sealed class FailoverPolicySpec
{
    public string Service { get; set; } = "";
    public List<FailoverTarget> Targets { get; set; } = new();
    public FailoverTrigger? Trigger { get; set; }
    public FailbackSpec? Failback { get; set; }
    public int MaxSpillPercent { get; set; } = 100;
}

public sealed class FailoverTarget
{
    public string Cluster { get; set; } = "";
}

public sealed class FailoverTrigger
{
    public int MinHealthyPercent { get; set; } = 50;
    /// <summary>Maximum error rate in percent over <see cref="Window"/>.</summary>
    public double? MaxErrorRate { get; set; }
    /// <summary>Maximum p99 latency over <see cref="Window"/>, a duration such as "250ms".</summary>
    public string? MaxLatencyP99 { get; set; }
    public string Window { get; set; } = "30s";
}

public sealed class FailbackSpec
{
    public string After { get; set; } = "30s";
}

public sealed class FailoverPolicyStatus
{
    public string? ActiveTarget { get; set; }
    public string? Since { get; set; }
    public string? Reason { get; set; }
    public List<Condition>? Conditions { get; set; }
}
