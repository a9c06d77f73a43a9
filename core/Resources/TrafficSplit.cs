namespace FedMesh.Core.Resources;

/// <summary>Weighted backends for a service, local or mirrored; optionally a progressive canary.</summary>
public sealed class TrafficSplit : Resource<TrafficSplitSpec, TrafficSplitStatus>
{
    public TrafficSplit() { ApiVersion = WellKnown.ApiVersion; Kind = "TrafficSplit"; }
}

public sealed class TrafficSplitSpec
{
    public string Service { get; set; } = "";

    /// <summary>The backends and their weights. With <see cref="Analysis"/>, the last backend is the canary.</summary>
    public List<SplitBackend> Backends { get; set; } = new();

    /// <summary>A progressive canary: the controller moves weight to the last backend while its checks pass.</summary>
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
    /// <summary>The weights in effect while a progressive canary runs (or after it ended); routes use them instead of spec's.</summary>
    public List<SplitBackend>? Weights { get; set; }

    /// <summary>Progressing, Promoted, RolledBack, or Manual (set by <c>fedmesh canary shift|promote|rollback</c>).</summary>
    public string? Phase { get; set; }

    /// <summary>The outcome of the latest check, for people: what was measured and which check failed.</summary>
    public string? LastAnalysis { get; set; }

    /// <summary>Failed checks since the rollout started; the rollout rolls back when it reaches the threshold.</summary>
    public int? FailedChecks { get; set; }

    /// <summary>RFC 3339 time of the latest step or check; the next check is one interval later.</summary>
    public string? LastCheckTime { get; set; }

    /// <summary>What happened, oldest first, bounded.</summary>
    public List<string>? History { get; set; }
    public List<Condition>? Conditions { get; set; }
}
