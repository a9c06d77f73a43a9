namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// Lets one warning through per interval and counts the ones it held back, so a broken upstream
/// under load yields a line every few seconds instead of one per request. Lock-free.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, TimeSpan interval)
{
    private long _nextAllowed;
    private int _suppressed;

    /// <summary>True when the caller should log now; <paramref name="suppressed"/> is how many were held back since the last one.</summary>
    public bool TryEnter(out int suppressed)
    {
        var now = time.GetTimestamp();
        var next = Volatile.Read(ref _nextAllowed);
        if (now >= next)
        {
            var following = now + (long)(interval.TotalSeconds * time.TimestampFrequency);
            if (Interlocked.CompareExchange(ref _nextAllowed, following, next) == next)
            {
                suppressed = Interlocked.Exchange(ref _suppressed, 0);
                return true;
            }
        }
        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
