namespace FedMesh.Core.Common;

/// <summary>
/// Jittered exponential backoff for long-lived streams: each failure waits a random 50–150 % of
/// the current delay, which doubles up to a cap; a success resets it.
/// </summary>
public sealed class ReconnectBackoff(TimeSpan initial, TimeSpan max, TimeProvider time)
{
    private readonly TimeSpan _initial = initial;
    private TimeSpan _current = initial;

    public void Reset() => _current = _initial;

    /// <summary>Waits the next delay; false if <paramref name="cancellationToken"/> fired (the caller stops).</summary>
    public async Task<bool> WaitAsync(CancellationToken cancellationToken)
    {
        var delay = _current * (0.5 + Random.Shared.NextDouble());
        _current = TimeSpan.FromTicks(Math.Min(_current.Ticks * 2, max.Ticks));
        try
        {
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
