namespace FedMesh.Proxy.Resilience;

/// <summary>How one attempt ended, for the retry strategy.</summary>
internal enum AttemptKind
{
    /// <summary>Answered (any status) and copied to the client, or the client went away: nothing more to do.</summary>
    Done,

    /// <summary>A 5xx the proxy held back because a retry was already granted (budget taken).</summary>
    HeldBack,

    /// <summary>Connection or protocol failure before any response reached the client.</summary>
    Failed,

    /// <summary>The endpoint was dropped from discovery while the request waited on it (a frozen gateway).</summary>
    Evicted,

    /// <summary>No endpoint left to try.</summary>
    NoEndpoint,
}

/// <summary>An attempt's outcome with the request it belongs to, so ShouldHandle needs no lookup.</summary>
internal readonly record struct AttemptOutcome(AttemptKind Kind, ForwardRequest Request);
