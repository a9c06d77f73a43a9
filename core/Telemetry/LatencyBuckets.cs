namespace FedMesh.Core.Telemetry;

/// <summary>
/// Histogram bucket bounds in milliseconds, shared by every reporter, the controller and the
/// metrics endpoints. Fine below a millisecond (loopback hops cost tens of microseconds) and about
/// 20 % apart above, so percentiles interpolated inside a bucket stay within a few percent.
/// </summary>
public static class LatencyBuckets
{
    public static readonly double[] BoundsMs =
    [
        0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.75,
        1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 10, 12.5, 15, 20, 25, 30, 40, 50, 55, 60, 65, 75,
        100, 125, 150, 200, 250, 300, 400, 500, 600, 750, 1000, 1250, 1500, 2000, 2500, 3000,
        4000, 5000, 7500, 10000, 30000,
    ];

    /// <summary>Number of buckets: one per bound plus the overflow bucket.</summary>
    public static int Count => BoundsMs.Length + 1;

    /// <summary>The bucket a latency falls in (upper bounds inclusive).</summary>
    public static int IndexOf(double ms)
    {
        var bounds = BoundsMs;
        int lo = 0, hi = bounds.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >> 1;
            if (ms <= bounds[mid]) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>
    /// The <paramref name="quantile"/> (0..1) of a histogram, interpolating linearly inside the
    /// bucket it falls in; 0 for an empty histogram.
    /// </summary>
    public static double Percentile(ReadOnlySpan<ulong> counts, double quantile)
    {
        ulong total = 0;
        foreach (var c in counts) total += c;
        if (total == 0) return 0;
        var rank = quantile * total;
        double seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0) continue;
            if (seen + counts[i] >= rank)
            {
                var lower = i == 0 ? 0 : BoundsMs[i - 1];
                var upper = i < BoundsMs.Length ? BoundsMs[i] : BoundsMs[^1] * 2;
                var fraction = Math.Clamp((rank - seen) / counts[i], 0, 1);
                return lower + (upper - lower) * fraction;
            }
            seen += counts[i];
        }
        return BoundsMs[^1];
    }
}
