namespace FedMesh.MirrorController.Canary;

/// <summary>How the controller runs progressive canaries. Every default is in <see cref="CanaryDefaults"/>.</summary>
public sealed class CanaryOptions
{
    /// <summary>
    /// How soon rollouts are looked at again after the store could not be read or written. Default 1 s. (Otherwise
    /// the controller wakes when a TrafficSplit changes and when a rollout's next check is due, not on a period.)
    /// </summary>
    public TimeSpan RetryPeriod { get; init; } = CanaryDefaults.RetryPeriod;

    /// <summary>
    /// Fewest requests to the canary within one interval for a check to have data. Default 10. A check
    /// with fewer is "no data" and counts as a failed check: silence cannot tell a healthy canary from a
    /// dead one, and an automatic rollout must not promote what it never saw work.
    /// </summary>
    public int MinRequests { get; init; } = CanaryDefaults.MinRequests;

    /// <summary>
    /// Added to the interval to make a check's window: proxies report once a second, so the newest
    /// second is still filling when a check runs. Default 1 s.
    /// </summary>
    public TimeSpan ReportLag { get; init; } = CanaryDefaults.ReportLag;

    /// <summary>How many entries <c>status.history</c> keeps (the oldest go first). Default 20.</summary>
    public int HistoryLimit { get; init; } = CanaryDefaults.HistoryLimit;
}

/// <summary>The defaults of <see cref="CanaryOptions"/>.</summary>
public static class CanaryDefaults
{
    public static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(1);
    public const int MinRequests = 10;
    public const int HistoryLimit = 20;
    public static readonly TimeSpan ReportLag = TimeSpan.FromSeconds(1);
}
