namespace FedMesh.Core.Forwarding;

/// <summary>
/// When a <see cref="MeshClient"/>'s connection pools are next swept (<see cref="Http11Pool.Sweep"/>). Every
/// <see cref="Period"/> while requests are under way (one holds or waits for a connection, or gave one back within the
/// last second), for the sweep is what finds a caller who left or an exchange gone silent past its activity timeout;
/// otherwise once, when the first idle connection expires; and not at all while the pools are empty. A pool calls
/// <see cref="Demand"/> whenever a request takes or waits for one of its connections, which sets the timer ticking
/// again. An idle process is then not woken once a period per upstream client for nothing: each tick costs the
/// runtime's timer thread and two or three thread-pool wake-ups (bench/dataplane/idle.sh).
/// </summary>
internal sealed class SweepTimer : IDisposable
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);

    private readonly Func<TimeSpan?> _sweep;
    private readonly ITimer _timer;
    private readonly Lock _lock = new();
    private volatile bool _ticking; // the timer fires every Period; false while a sweep runs, so a request meanwhile sets it again
    private bool _disposed;

    /// <param name="sweep">
    /// Sweeps once and says when the next sweep is needed: <see cref="TimeSpan.Zero"/> for the next period (a request is
    /// under way), a later time for an idle connection's expiry, or null when nothing is left to sweep.
    /// </param>
    public SweepTimer(TimeProvider time, Func<TimeSpan?> sweep)
    {
        _sweep = sweep;
        _timer = time.CreateTimer(static state => ((SweepTimer)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Whether the timer fires every period now.</summary>
    public bool Ticking => _ticking;

    /// <summary>
    /// A request takes or waits for a connection: the pools are swept every period from now on. Called under the pool's
    /// lock, so that a sweep that looked at the pool before saw the request, or one that looks after it is followed by
    /// another a period later; a volatile read when the timer already ticks.
    /// </summary>
    public void Demand()
    {
        if (_ticking)
            return;
        lock (_lock)
        {
            if (_ticking || _disposed)
                return;
            _ticking = true;
            _timer.Change(Period, Period);
        }
    }

    private void Tick()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _ticking = false;
        }
        Interlocked.MemoryBarrier(); // a pool created after this point sees the timer as not ticking
        var next = _sweep();
        lock (_lock)
        {
            if (_ticking || _disposed)
                return; // a request set it ticking while the pools were swept
            if (next is null)
                _timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            else if (next.Value <= Period)
            {
                _ticking = true;
                _timer.Change(Period, Period);
            }
            else
                _timer.Change(next.Value, Timeout.InfiniteTimeSpan);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _ticking = true; // Demand returns at once
        }
        _timer.Dispose();
    }
}
