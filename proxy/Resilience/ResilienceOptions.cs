namespace FedMesh.Proxy.Resilience;

/// <summary>Retries, retry budget and failure accrual of the outbound proxy. Validated once, at build.</summary>
public sealed class ResilienceOptions
{
    /// <summary>Consecutive failures that eject an endpoint. Default <see cref="ResilienceDefaults.ConsecutiveFailures"/>.</summary>
    public int ConsecutiveFailures { get; init; } = ResilienceDefaults.ConsecutiveFailures;

    /// <summary>First ejection; doubled by each failed probation. Default <see cref="ResilienceDefaults.EjectionBase"/>.</summary>
    public TimeSpan EjectionBase { get; init; } = ResilienceDefaults.EjectionBase;

    /// <summary>Cap on an ejection. Default <see cref="ResilienceDefaults.EjectionMax"/>.</summary>
    public TimeSpan EjectionMax { get; init; } = ResilienceDefaults.EjectionMax;

    /// <summary>Retries as a share of requests. Default <see cref="ResilienceDefaults.BudgetRatio"/>.</summary>
    public double BudgetRatio { get; init; } = ResilienceDefaults.BudgetRatio;

    /// <summary>Retries per second always allowed. Default <see cref="ResilienceDefaults.BudgetMinRetriesPerSecond"/>.</summary>
    public int BudgetMinRetriesPerSecond { get; init; } = ResilienceDefaults.BudgetMinRetriesPerSecond;

    /// <summary>Budget window. Default <see cref="ResilienceDefaults.BudgetWindow"/>; whole seconds.</summary>
    public TimeSpan BudgetWindow { get; init; } = ResilienceDefaults.BudgetWindow;

    /// <summary>Largest body buffered for retries. Default <see cref="ResilienceDefaults.MaxBufferedBody"/>.</summary>
    public int MaxBufferedBody { get; init; } = ResilienceDefaults.MaxBufferedBody;

    /// <summary>Retries per request. Default <see cref="ResilienceDefaults.MaxRetries"/>.</summary>
    public int MaxRetries { get; init; } = ResilienceDefaults.MaxRetries;

    /// <summary>Every problem, one message; throws <see cref="ArgumentException"/> listing all of them.</summary>
    public ResilienceOptions Validated()
    {
        var errors = new List<string>();
        if (ConsecutiveFailures < 1)
            errors.Add($"ConsecutiveFailures must be at least 1 (got {ConsecutiveFailures})");
        if (EjectionBase <= TimeSpan.Zero)
            errors.Add($"EjectionBase must be positive (got {EjectionBase})");
        if (EjectionMax < EjectionBase)
            errors.Add($"EjectionMax must be at least EjectionBase (got {EjectionMax} < {EjectionBase})");
        if (BudgetRatio is < 0 or > 1 || double.IsNaN(BudgetRatio))
            errors.Add($"BudgetRatio must be between 0 and 1 (got {BudgetRatio})");
        if (BudgetMinRetriesPerSecond < 0)
            errors.Add($"BudgetMinRetriesPerSecond must not be negative (got {BudgetMinRetriesPerSecond})");
        if (BudgetWindow < TimeSpan.FromSeconds(1) || BudgetWindow > TimeSpan.FromMinutes(1) || BudgetWindow.Ticks % TimeSpan.TicksPerSecond != 0)
            errors.Add($"BudgetWindow must be whole seconds between 1 and 60 (got {BudgetWindow})");
        if (MaxBufferedBody < 0)
            errors.Add($"MaxBufferedBody must not be negative (got {MaxBufferedBody})");
        if (MaxRetries is < 0 or > 10)
            errors.Add($"MaxRetries must be between 0 and 10 (got {MaxRetries})");
        if (errors.Count > 0)
            throw new ArgumentException("invalid resilience options: " + string.Join("; ", errors));
        return this;
    }
}
