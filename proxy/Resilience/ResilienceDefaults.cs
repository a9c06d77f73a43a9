namespace FedMesh.Proxy.Resilience;

/// <summary>Defaults of <see cref="ResilienceOptions"/> (Linkerd's, see ANCHORS.md), in one place.</summary>
public static class ResilienceDefaults
{
    /// <summary>Consecutive failures (connection errors and 5xx) that eject an endpoint: 7.</summary>
    public const int ConsecutiveFailures = 7;

    /// <summary>First ejection: 1 s; each failed probation doubles it.</summary>
    public static readonly TimeSpan EjectionBase = TimeSpan.FromSeconds(1);

    /// <summary>Longest ejection: 1 min.</summary>
    public static readonly TimeSpan EjectionMax = TimeSpan.FromMinutes(1);

    /// <summary>Retries allowed as a share of requests over <see cref="BudgetWindow"/>: 0.2 (20 %).</summary>
    public const double BudgetRatio = 0.2;

    /// <summary>Retries per second always allowed on top of the ratio: 10.</summary>
    public const int BudgetMinRetriesPerSecond = 10;

    /// <summary>Window the budget counts over: 10 s.</summary>
    public static readonly TimeSpan BudgetWindow = TimeSpan.FromSeconds(10);

    /// <summary>Largest request body buffered for a retry: 64 KiB. Larger bodies are never retried.</summary>
    public const int MaxBufferedBody = 64 * 1024;

    /// <summary>Retries per request after the first attempt: 2.</summary>
    public const int MaxRetries = 2;

    /// <summary>Decay time of the peak-EWMA latency estimate: 10 s.</summary>
    public static readonly TimeSpan EwmaDecay = TimeSpan.FromSeconds(10);

    /// <summary>Latency assumed for an endpoint never measured: 1 ms.</summary>
    public static readonly TimeSpan EwmaDefault = TimeSpan.FromMilliseconds(1);

    /// <summary>Header an app sets to <c>true</c> to mark a non-idempotent request as safe to retry.</summary>
    public const string RetryableHeader = "x-fedmesh-retryable";

    /// <summary>Response header carrying how many attempts a request took, when more than one.</summary>
    public const string AttemptsHeader = "x-fedmesh-attempts";
}
