using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.LoadBalancing;

/// <summary>
/// Power of two choices over peak-EWMA cost: two distinct random endpoints that are open (not ejected and
/// not already tried by this request), the cheaper wins. An endpoint whose ejection is over gets its one
/// probation request first. When every endpoint is ejected, <see cref="PickAny"/> is the panic fallback.
/// Lock-free and allocation-free; randomness is injected (shared across threads it must be thread-safe, as <see cref="Random.Shared"/> is).
/// </summary>
internal sealed class PeakEwmaBalancer(Random random, TimeProvider time) : ILoadBalancer
{
    public UpstreamEndpoint? Pick(UpstreamEndpoint[] endpoints)
    {
        var tried = default(TriedEndpoints);
        return Pick(endpoints, ref tried) ?? PickAny(endpoints, ref tried);
    }

    /// <summary>An open, untried endpoint, or null when there is none.</summary>
    public UpstreamEndpoint? Pick(UpstreamEndpoint[] endpoints, ref TriedEndpoints tried)
    {
        var count = endpoints.Length;
        if (count == 0)
            return null;
        var probation = ClaimProbation(endpoints, ref tried);
        if (probation is not null)
            return probation;
        var open = 0;
        for (var i = 0; i < count; i++)
            if (Usable(endpoints[i], ref tried))
                open++;
        if (open == 0)
            return null;
        if (open == 1)
            return NthUsable(endpoints, 0, ref tried);
        var first = random.Next(open);
        var second = random.Next(open - 1);
        if (second >= first)
            second++;
        var a = NthUsable(endpoints, first, ref tried)!;
        var b = NthUsable(endpoints, second, ref tried)!;
        return b.State.Load.Cost < a.State.Load.Cost ? b : a;
    }

    /// <summary>An untried endpoint whose ejection is over, claimed for its one probation request; null when there is none.</summary>
    public UpstreamEndpoint? ClaimProbation(UpstreamEndpoint[] endpoints, ref TriedEndpoints tried)
    {
        var now = time.GetTimestamp();
        foreach (var e in endpoints)
            if (!tried.Contains(e) && e.State.Accrual.TryClaimProbation(now))
                return e;
        return null;
    }

    /// <summary>Panic mode: the least loaded untried endpoint, ejected or not.</summary>
    public static UpstreamEndpoint? PickAny(UpstreamEndpoint[] endpoints, ref TriedEndpoints tried)
    {
        UpstreamEndpoint? best = null;
        foreach (var e in endpoints)
            if (!tried.Contains(e) && (best is null || e.State.Load.Cost < best.State.Load.Cost))
                best = e;
        return best;
    }

    private static bool Usable(UpstreamEndpoint e, ref TriedEndpoints tried) => e.State.Accrual.IsOpen && !tried.Contains(e);

    private static UpstreamEndpoint? NthUsable(UpstreamEndpoint[] endpoints, int n, ref TriedEndpoints tried)
    {
        foreach (var e in endpoints)
        {
            if (!Usable(e, ref tried))
                continue;
            if (n-- == 0)
                return e;
        }
        return null;
    }
}
