namespace FedMesh.MirrorController.Canary;

/// <summary>How the controller runs progressive canaries. Every default is in <see cref="CanaryDefaults"/>.</summary>
public sealed class CanaryOptions
{
    /// <summary>How often rollouts are looked at; a check runs at most this late. Default 250 ms.</summary>
    public TimeSpan TickPeriod { get; init; } = CanaryDefaults.TickPeriod;

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
    public static readonly TimeSpan TickPeriod = TimeSpan.FromMilliseconds(250);
    public const int MinRequests = 10;
    public const int HistoryLimit = 20;
    public static readonly TimeSpan ReportLag = TimeSpan.FromSeconds(1);
}
