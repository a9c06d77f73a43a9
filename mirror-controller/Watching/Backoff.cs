namespace FedMesh.MirrorController.Watching;

/// <summary>Exponential backoff with full jitter: a random delay in [initial, min(max, initial·2^attempt)].</summary>
internal sealed class Backoff(TimeSpan initial, TimeSpan max, Random random)
{
    public TimeSpan Initial { get; } = initial;
    public TimeSpan Max { get; } = max;

    public TimeSpan Delay(int attempt)
    {
        var ceiling = Initial.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt, 0, 30));
        ceiling = Math.Min(ceiling, Max.TotalMilliseconds);
        var floor = Math.Min(Initial.TotalMilliseconds, ceiling);
        return TimeSpan.FromMilliseconds(floor + (ceiling - floor) * random.NextDouble());
    }
}
