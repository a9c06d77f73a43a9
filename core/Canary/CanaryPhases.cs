namespace FedMesh.Core.Canary;

/// <summary>The phases a TrafficSplit's status can be in (<c>status.phase</c>).</summary>
public static class CanaryPhases
{
    /// <summary>A progressive canary runs: the controller checks it every interval and moves weight.</summary>
    public const string Progressing = "Progressing";

    /// <summary>The canary carries all the traffic.</summary>
    public const string Promoted = "Promoted";

    /// <summary>The canary carries none: too many checks failed, or someone rolled it back.</summary>
    public const string RolledBack = "RolledBack";

    /// <summary>Weights set by hand (<c>fedmesh canary shift</c>).</summary>
    public const string Manual = "Manual";

    /// <summary>True for a phase that no controller moves on from.</summary>
    public static bool IsFinal(string? phase) => phase is Promoted or RolledBack or Manual;
}
