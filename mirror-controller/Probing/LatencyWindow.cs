namespace FedMesh.MirrorController.Probing;

/// <summary>The last probe latencies (a ring of 64), with their percentiles. One probe loop writes and reads it.</summary>
internal sealed class LatencyWindow
{
    private readonly double[] _samples = new double[64];
    private readonly double[] _sorted = new double[64];
    private int _count, _next;

    public int Count => _count;

    public void Add(TimeSpan latency)
    {
        _samples[_next] = latency.TotalMilliseconds;
        _next = (_next + 1) % _samples.Length;
        _count = Math.Min(_count + 1, _samples.Length);
    }

    /// <summary>p50, p95, p99 in milliseconds (nearest rank), rounded to 0.01 ms.</summary>
    public (double P50, double P95, double P99) Percentiles()
    {
        if (_count == 0)
            return (0, 0, 0);
        Array.Copy(_samples, _sorted, _count);
        Array.Sort(_sorted, 0, _count);
        return (Rank(0.50), Rank(0.95), Rank(0.99));
    }

    private double Rank(double q) => Math.Round(_sorted[Math.Clamp((int)Math.Ceiling(q * _count) - 1, 0, _count - 1)], 2);
}
