using FedMesh.Proxy.Resilience;

namespace FedMesh.Proxy.LoadBalancing;

/// <summary>
/// Peak-EWMA latency and in-flight count of one endpoint (Finagle's and Linkerd's load metric). A slower
/// sample takes over at once (the peak); faster ones decay it with time constant <see cref="ResilienceDefaults.EwmaDecay"/>.
/// The cost is latency × (in-flight + 1), so an endpoint that queues requests is avoided before it gets slow.
/// </summary>
internal sealed class PeakEwma(TimeProvider time)
{
    private static readonly double DecayTicks = ResilienceDefaults.EwmaDecay.Ticks;
    private readonly Lock _lock = new();
    private double _ewmaTicks = ResilienceDefaults.EwmaDefault.Ticks;
    private long _stamp = time.GetTimestamp();
    private int _inFlight;

    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>The current estimate in ticks, decayed to now.</summary>
    public double LatencyTicks
    {
        get
        {
            lock (_lock)
                return _ewmaTicks;
        }
    }

    public double Cost => LatencyTicks * (InFlight + 1);

    /// <summary>A request starts; returns the timestamp to hand to <see cref="End"/>.</summary>
    public long Start()
    {
        Interlocked.Increment(ref _inFlight);
        return time.GetTimestamp();
    }

    public void End(long started)
    {
        Interlocked.Decrement(ref _inFlight);
        var now = time.GetTimestamp();
        var rtt = time.GetElapsedTime(started, now).Ticks;
        lock (_lock)
        {
            var decayed = _ewmaTicks;
            _ewmaTicks = rtt > decayed ? rtt : decayed + ((rtt - decayed) * (1 - Weight(now)));
            _stamp = now;
        }
    }

    private double Weight(long now) => Math.Exp(-time.GetElapsedTime(_stamp, now).Ticks / DecayTicks);
}
