using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>Settings of <see cref="KubernetesClusterStore"/>; defaults come from <see cref="KubernetesStoreDefaults"/>.</summary>
public sealed class KubernetesStoreOptions
{
    /// <summary>How long one watch request may stay open before the server ends it and the store resumes it.</summary>
    public TimeSpan WatchTimeout { get; set; } = KubernetesStoreDefaults.WatchTimeout;

    /// <summary>First delay before retrying a failed list or watch; doubled (with jitter) on every further failure.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = KubernetesStoreDefaults.RetryBaseDelay;

    /// <summary>Longest delay between two retries of a failed list or watch.</summary>
    public TimeSpan RetryMaxDelay { get; set; } = KubernetesStoreDefaults.RetryMaxDelay;

    /// <summary>Clock used for retry delays.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where watch restarts and retried errors are logged; null logs nothing.</summary>
    public ILogger? Logger { get; set; }

    /// <summary>Every broken setting, in one pass; empty when the options are usable.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (WatchTimeout < TimeSpan.FromSeconds(1))
            errors.Add($"WatchTimeout must be at least 1 s (got {WatchTimeout}); the API server counts it in whole seconds");
        if (RetryBaseDelay <= TimeSpan.Zero)
            errors.Add($"RetryBaseDelay must be greater than zero (got {RetryBaseDelay})");
        if (RetryMaxDelay < RetryBaseDelay)
            errors.Add($"RetryMaxDelay ({RetryMaxDelay}) must be at least RetryBaseDelay ({RetryBaseDelay})");
        return errors;
    }
}

/// <summary>Defaults of <see cref="KubernetesStoreOptions"/>.</summary>
public static class KubernetesStoreDefaults
{
    /// <summary>5 minutes: below the API server's own limit, so the store, not a proxy, ends watches.</summary>
    public static readonly TimeSpan WatchTimeout = TimeSpan.FromMinutes(5);

    /// <summary>200 ms.</summary>
    public static readonly TimeSpan RetryBaseDelay = TimeSpan.FromMilliseconds(200);

    /// <summary>30 s.</summary>
    public static readonly TimeSpan RetryMaxDelay = TimeSpan.FromSeconds(30);
}
