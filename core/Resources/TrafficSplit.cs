namespace FedMesh.Core.Resources;

/// <summary>Weighted backends for a service, local or mirrored; optionally a progressive canary.</summary>
public sealed class TrafficSplit : Resource<TrafficSplitSpec, TrafficSplitStatus>
{
    public TrafficSplit() { ApiVersion = WellKnown.ApiVersion; Kind = "TrafficSplit"; }
}

public sealed class TrafficSplitSpec
{
    public string Service { get; set; } = "";
    public List<SplitBackend> Backends { get; set; } = new();
    public CanaryAnalysis? Analysis { get; set; }
}

public sealed class SplitBackend
{
    public string Service { get; set; } = "";
    public string? Cluster { get; set; }
    public int Weight { get; set; }
}

public sealed class CanaryAnalysis
{
    public int StepWeight { get; set; } = 10;
    public int MaxWeight { get; set; } = 50;
    public string Interval { get; set; } = "30s";
    public int Threshold { get; set; } = 3;
    public SuccessRateCheck? SuccessRate { get; set; }
    public LatencyCheck? LatencyP99 { get; set; }
}

public sealed class SuccessRateCheck
{
    /// <summary>Minimum success rate in percent.</summary>
    public double Min { get; set; }
}

public sealed class LatencyCheck
{
    /// <summary>Maximum latency, a duration such as "300ms".</summary>
    public string Max { get; set; } = "";
}

public sealed class TrafficSplitStatus
{
    public List<SplitBackend>? Weights { get; set; }
    public string? Phase { get; set; }
    public string? LastAnalysis { get; set; }
    public List<string>? History { get; set; }
    public List<Condition>? Conditions { get; set; }
}
