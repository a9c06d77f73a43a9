namespace FedMesh.MirrorController.Failover;

/// <summary>
/// The active target of one FailoverPolicy. Targets are in order; the active one is the first whose healthy
/// share is at least the threshold, except that moving back to an earlier target (failback) waits until it
/// has been healthy continuously for <c>failbackAfter</c>. Pure: the caller supplies the time and shares.
/// </summary>
internal sealed class FailoverStateMachine(string[] targets, int minHealthyPercent, TimeSpan failbackAfter)
{
    private readonly DateTimeOffset?[] _healthySince = new DateTimeOffset?[targets.Length];

    public int Active { get; private set; } = -1;
    public DateTimeOffset Since { get; private set; }
    public string Reason { get; private set; } = "";

    public IReadOnlyList<string> Targets => targets;

    /// <summary>Seeds the state from a stored status so a restarted controller keeps failback hysteresis.</summary>
    public void Restore(string? activeTarget, DateTimeOffset since, string? reason)
    {
        var index = Array.IndexOf(targets, activeTarget);
        if (index < 0)
            return;
        Active = index;
        Since = since;
        Reason = reason ?? "";
    }

    /// <summary>
    /// Re-evaluates with each target's healthy percent and, optionally, its SLO breach (null: none);
    /// a breaching target counts as unhealthy. True when the active target changed.
    /// </summary>
    public bool Evaluate(int[] healthyPercent, DateTimeOffset now, string?[]? breaches = null)
    {
        bool Ok(int i) => Healthy(healthyPercent[i]) && breaches?[i] is null;
        for (var i = 0; i < targets.Length; i++)
            _healthySince[i] = Ok(i) ? _healthySince[i] ?? now : null;
        var first = -1;
        for (var i = 0; i < targets.Length && first < 0; i++)
            if (Ok(i))
                first = i;

        if (Active < 0)
            return Move(first < 0 ? 0 : first, now, first < 0 ? "NoHealthyTarget: no target has healthy endpoints" : $"Initial: {targets[first]} is the first healthy target");
        if (first < 0)
            return false; // nowhere better to go: stay (the proxy still tries every target)
        if (breaches?[Active] is { } breach && Healthy(healthyPercent[Active]))
            return Move(first, now, $"SloBreach: {targets[Active]} {breach}");
        if (!Healthy(healthyPercent[Active]))
            return Move(first, now, $"Failover: {targets[Active]} has {healthyPercent[Active]}% healthy endpoints, below {minHealthyPercent}%");
        if (first < Active && now - _healthySince[first]!.Value >= failbackAfter)
            return Move(first, now, $"Failback: {targets[first]} healthy for {failbackAfter.TotalSeconds:0.#}s");
        return false;
    }

    /// <summary>When a pending failback becomes due, if one is pending.</summary>
    public DateTimeOffset? FailbackDue()
    {
        for (var i = 0; i < Active; i++)
            if (_healthySince[i] is { } since)
                return since + failbackAfter;
        return null;
    }

    private bool Healthy(int percent) => percent > 0 && percent >= minHealthyPercent;

    private bool Move(int index, DateTimeOffset now, string reason)
    {
        if (index == Active)
            return false;
        Active = index;
        Since = now;
        Reason = reason;
        return true;
    }
}
