namespace FedMesh.MirrorController;

/// <summary>
/// Options of a cluster's mirror-controller, bound from the command line
/// (<c>--Home /path --Cluster east [--RepairInterval 00:00:30]</c>).
/// </summary>
public sealed class MirrorControllerOptions
{
    /// <summary>The federation home holding <c>config.yaml</c>; defaults to <c>$FEDMESH_HOME</c>, then <c>~/.fedmesh</c>.</summary>
    public string? Home { get; set; }

    /// <summary>The cluster this controller runs for; must be a cluster of <c>config.yaml</c>. Required.</summary>
    public string Cluster { get; set; } = "";

    /// <summary>How often the repair pass re-checks every mirror and deletes orphans. Default 30 s.</summary>
    public TimeSpan RepairInterval { get; set; } = MirrorControllerDefaults.RepairInterval;

    /// <summary>Shortest time between two snapshot pushes: a change after a quiet interval is pushed at once, a burst at most once per this interval. Default 30 ms.</summary>
    public TimeSpan DiscoveryDebounce { get; set; } = MirrorControllerDefaults.DiscoveryDebounce;

    /// <summary>Longest wait between attempts to re-open a broken watch (local or target store). Default 10 s.</summary>
    public TimeSpan WatchRetryMaxDelay { get; set; } = MirrorControllerDefaults.WatchRetryMaxDelay;

    /// <summary>How many times a failing mirroring step is tried before it is left to the repair pass. Default 10.</summary>
    public int MaxAttempts { get; set; } = MirrorControllerDefaults.MaxAttempts;

    /// <summary>Every problem with these options, one message each; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Cluster))
            errors.Add("--Cluster is required: the name of the cluster this controller runs for");
        if (RepairInterval < TimeSpan.FromMilliseconds(100))
            errors.Add($"--RepairInterval must be at least 00:00:00.1 (got {RepairInterval})");
        if (DiscoveryDebounce < TimeSpan.Zero || DiscoveryDebounce > TimeSpan.FromSeconds(5))
            errors.Add($"--DiscoveryDebounce must be between 0 and 5 seconds (got {DiscoveryDebounce})");
        if (WatchRetryMaxDelay < TimeSpan.FromMilliseconds(200))
            errors.Add($"--WatchRetryMaxDelay must be at least 00:00:00.2 (got {WatchRetryMaxDelay})");
        if (MaxAttempts < 1)
            errors.Add($"--MaxAttempts must be at least 1 (got {MaxAttempts})");
        return errors;
    }
}

/// <summary>Defaults of <see cref="MirrorControllerOptions"/>.</summary>
public static class MirrorControllerDefaults
{
    /// <summary>30 seconds.</summary>
    public static readonly TimeSpan RepairInterval = TimeSpan.FromSeconds(30);

    /// <summary>30 milliseconds.</summary>
    public static readonly TimeSpan DiscoveryDebounce = TimeSpan.FromMilliseconds(30);

    /// <summary>10 seconds.</summary>
    public static readonly TimeSpan WatchRetryMaxDelay = TimeSpan.FromSeconds(10);

    /// <summary>10 attempts.</summary>
    public const int MaxAttempts = 10;
}
