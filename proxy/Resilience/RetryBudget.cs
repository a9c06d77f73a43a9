namespace FedMesh.Proxy.Resilience;

/// <summary>
/// Caps retries at <c>ratio × requests + minPerSecond × window</c> over a sliding window of one-second
/// buckets (Linkerd's budget). Lock-free: each bucket is stamped with its second and reset by the first
/// writer of a new second. Shared by every route of a proxy, so a storm anywhere is bounded everywhere.
/// </summary>
internal sealed class RetryBudget
{
    private readonly TimeProvider _time;
    private readonly double _ratio;
    private readonly long _reserve;
    private readonly Bucket[] _buckets;

    public RetryBudget(ResilienceOptions options, TimeProvider time)
    {
        _time = time;
        _ratio = options.BudgetRatio;
        var seconds = (int)options.BudgetWindow.TotalSeconds;
        _reserve = (long)options.BudgetMinRetriesPerSecond * seconds;
        _buckets = new Bucket[seconds];
        for (var i = 0; i < seconds; i++)
            _buckets[i] = new Bucket();
    }

    /// <summary>Counts one request (first attempts only).</summary>
    public void Deposit() => Interlocked.Increment(ref Current().Requests);

    /// <summary>Takes one retry from the budget; false (and nothing taken) when it is spent.</summary>
    public bool TryWithdraw()
    {
        var now = Second();
        long requests = 0, retries = 0;
        foreach (var bucket in _buckets)
        {
            if (now - Volatile.Read(ref bucket.Second) >= _buckets.Length)
                continue;
            requests += Volatile.Read(ref bucket.Requests);
            retries += Volatile.Read(ref bucket.Retries);
        }
        if (retries + 1 > _ratio * requests + _reserve)
            return false;
        Interlocked.Increment(ref Current().Retries);
        return true;
    }

    private long Second() => _time.GetTimestamp() / _time.TimestampFrequency;

    private Bucket Current()
    {
        var second = Second();
        var bucket = _buckets[(int)(second % _buckets.Length)];
        var stamp = Volatile.Read(ref bucket.Second);
        if (stamp != second && Interlocked.CompareExchange(ref bucket.Second, second, stamp) == stamp)
        {
            // The first writer of a new second clears what the bucket counted a window ago.
            Interlocked.Exchange(ref bucket.Requests, 0);
            Interlocked.Exchange(ref bucket.Retries, 0);
        }
        return bucket;
    }

    private sealed class Bucket
    {
        public long Second = long.MinValue / 2;
        public long Requests;
        public long Retries;
    }
}
