using FedMesh.Core.Resources;

namespace FedMesh.Core.Canary;

/// <summary>
/// Weight arithmetic shared by <c>fedmesh canary</c> and the controller's rollout. Weights are
/// percentages: every result sums to <see cref="Total"/>. The canary is always the last backend.
/// </summary>
public static class SplitWeights
{
    public const int Total = 100;

    /// <summary>The weights routes use: the rollout's (status) while an analysis owns the split, else the spec's.</summary>
    public static IReadOnlyList<SplitBackend> Effective(TrafficSplit split) =>
        split.Spec.Analysis is not null && split.Status?.Weights is { Count: > 0 } weights ? weights : split.Spec.Backends;

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> name the same backend as seen from <paramref name="cluster"/>.</summary>
    public static bool Same(SplitBackend a, SplitBackend b, string cluster) =>
        string.Equals(a.Service, b.Service, StringComparison.Ordinal)
        && string.Equals(Normalize(a.Cluster, cluster), Normalize(b.Cluster, cluster), StringComparison.Ordinal);

    /// <summary>"service@cluster", the cluster defaulting to <paramref name="cluster"/>.</summary>
    public static string Describe(SplitBackend backend, string cluster) => $"{backend.Service}@{Normalize(backend.Cluster, cluster)}";

    /// <summary>The service a proxy in <paramref name="cluster"/> routes to for <paramref name="backend"/>: itself, or its mirror <c>service-cluster</c>.</summary>
    public static string RouteService(SplitBackend backend, string cluster) =>
        string.IsNullOrEmpty(backend.Cluster) || backend.Cluster == cluster ? backend.Service : WellKnown.MirrorName(backend.Service, backend.Cluster);

    /// <summary>
    /// Gives <paramref name="canary"/> <paramref name="weight"/> percent and moves it last; the other
    /// backends share the rest in proportion to their current weights (evenly if they have none).
    /// </summary>
    public static List<SplitBackend> Shift(IEnumerable<SplitBackend> current, SplitBackend canary, int weight, string cluster)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(weight);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(weight, Total);
        var others = current.Where(b => !Same(b, canary, cluster)).Select(Copy).ToList();
        if (others.Count == 0 && weight < Total)
            throw new InvalidOperationException($"{Describe(canary, cluster)} is the only backend, so it must carry all the traffic; add another backend first");
        Distribute(others, Total - weight);
        others.Add(new SplitBackend { Service = canary.Service, Cluster = canary.Cluster, Weight = weight });
        return others;
    }

    /// <summary>The last backend's weight (the canary's).</summary>
    public static int CanaryWeight(IReadOnlyList<SplitBackend> backends) => backends.Count == 0 ? 0 : backends[^1].Weight;

    /// <summary>Sets the canary (last backend) to <paramref name="weight"/>; the others share the rest in proportion to <paramref name="baseline"/>.</summary>
    public static List<SplitBackend> WithCanaryWeight(IReadOnlyList<SplitBackend> baseline, int weight)
    {
        if (baseline.Count == 0) return [];
        var canary = baseline[^1];
        var others = baseline.Take(baseline.Count - 1).Select(Copy).ToList();
        if (others.Count == 0) weight = Total;
        Distribute(others, Total - weight);
        others.Add(new SplitBackend { Service = canary.Service, Cluster = canary.Cluster, Weight = weight });
        return others;
    }

    /// <summary>Scales the weights of <paramref name="backends"/> to sum to <paramref name="total"/> (largest remainder, ties to the earlier).</summary>
    private static void Distribute(List<SplitBackend> backends, int total)
    {
        if (backends.Count == 0) return;
        long sum = backends.Sum(b => (long)Math.Max(0, b.Weight));
        var shares = new double[backends.Count];
        for (var i = 0; i < backends.Count; i++)
            shares[i] = sum == 0 ? (double)total / backends.Count : (double)total * Math.Max(0, backends[i].Weight) / sum;
        var given = 0;
        for (var i = 0; i < backends.Count; i++)
        {
            backends[i].Weight = (int)Math.Floor(shares[i]);
            given += backends[i].Weight;
        }
        foreach (var i in Enumerable.Range(0, backends.Count).OrderByDescending(i => shares[i] - Math.Floor(shares[i])).ThenBy(i => i).Take(total - given))
            backends[i].Weight++;
    }

    private static string Normalize(string? backendCluster, string cluster) => string.IsNullOrEmpty(backendCluster) ? cluster : backendCluster;

    private static SplitBackend Copy(SplitBackend b) => new() { Service = b.Service, Cluster = b.Cluster, Weight = b.Weight };
}
