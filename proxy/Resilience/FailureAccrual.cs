namespace FedMesh.Proxy.Resilience;

/// <summary>
/// Consecutive-failure accrual for one endpoint: after N failures in a row it is ejected for a jittered,
/// exponentially growing time (1 s → 1 min); when that ends, exactly one probation request decides —
/// success restores it, failure ejects it again for longer. Lock-free; times are <see cref="TimeProvider"/> timestamps.
/// </summary>
internal sealed class FailureAccrual
{
    private const int Open = 0, Ejected = 1, Probing = 2;
    private readonly AccrualSettings _settings;
    private int _consecutive;
    private int _phase;
    private int _level;
    private long _until;

    public FailureAccrual(AccrualSettings settings) => _settings = settings;

    /// <summary>True while the endpoint takes ordinary traffic.</summary>
    public bool IsOpen => Volatile.Read(ref _phase) == Open;

    /// <summary>How many times in a row it has been ejected (0 when open and healthy).</summary>
    public int Level => Volatile.Read(ref _level);

    /// <summary>True when the ejection is over and no probation request is out yet.</summary>
    public bool ProbationDue(long now) => Volatile.Read(ref _phase) == Ejected && now >= Volatile.Read(ref _until);

    /// <summary>Claims the single probation request; true for exactly one caller per ejection.</summary>
    public bool TryClaimProbation(long now) =>
        ProbationDue(now) && Interlocked.CompareExchange(ref _phase, Probing, Ejected) == Ejected;

    public void OnSuccess()
    {
        Volatile.Write(ref _consecutive, 0);
        if (Volatile.Read(ref _phase) == Probing)
        {
            Volatile.Write(ref _level, 0);
            Volatile.Write(ref _phase, Open);
        }
    }

    /// <summary>Counts a failure; true when it ejected the endpoint.</summary>
    public bool OnFailure(long now)
    {
        var phase = Volatile.Read(ref _phase);
        if (phase == Probing)
        {
            Eject(now, Math.Min(Volatile.Read(ref _level) + 1, 30));
            return true;
        }
        if (phase != Open)
            return false;
        if (Interlocked.Increment(ref _consecutive) < _settings.Threshold)
            return false;
        if (Interlocked.CompareExchange(ref _phase, Ejected, Open) != Open)
            return false;
        Eject(now, 0);
        return true;
    }

    private void Eject(long now, int level)
    {
        var delay = _settings.Delay(level);
        Volatile.Write(ref _level, level);
        Volatile.Write(ref _consecutive, 0);
        Volatile.Write(ref _until, now + delay);
        Volatile.Write(ref _phase, Ejected);
    }
}

/// <summary>Accrual settings shared by every endpoint of a proxy: threshold and jittered backoff in timestamp units.</summary>
internal sealed class AccrualSettings(ResilienceOptions options, TimeProvider time, Random random)
{
    private readonly Lock _randomLock = new();

    public int Threshold { get; } = options.ConsecutiveFailures;

    public TimeProvider Time { get; } = time;

    /// <summary>Ejection length for <paramref name="level"/> in timestamp units: base × 2^level, capped, ±20 % jitter (never past the cap).</summary>
    public long Delay(int level)
    {
        var max = options.EjectionMax.Ticks;
        var ticks = Math.Min((double)options.EjectionBase.Ticks * Math.Pow(2, level), max);
        double factor;
        lock (_randomLock)
            factor = 0.8 + (random.NextDouble() * 0.4);
        var jittered = Math.Min(ticks * factor, max);
        return (long)(jittered / TimeSpan.TicksPerSecond * Time.TimestampFrequency);
    }
}
