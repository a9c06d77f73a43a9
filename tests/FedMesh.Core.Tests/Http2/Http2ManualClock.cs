namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// A clock that moves only when a test says (<see cref="Advance"/>): its timers fire then, on the test's thread. One-shot
/// timers only, which is all the HTTP/2 connection makes.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly Lock _lock = new();
    private readonly List<Timer> _timers = [];
    private TimeSpan _elapsed;

    /// <summary>Timers made and neither fired, disarmed nor disposed.</summary>
    public int Armed
    {
        get { lock (_lock) return _timers.Count(t => t.Due is not null); }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_lock)
            return new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero) + _elapsed;
    }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp()
    {
        lock (_lock)
            return _elapsed.Ticks;
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new Timer(this, callback, state);
        lock (_lock)
            _timers.Add(timer);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>Moves the clock on, and fires the timers that came due.</summary>
    public void Advance(TimeSpan by)
    {
        List<Timer> due = [];
        lock (_lock)
        {
            _elapsed += by;
            foreach (var timer in _timers)
            {
                if (timer.Due <= _elapsed)
                {
                    timer.Due = null;
                    due.Add(timer);
                }
            }
        }
        foreach (var timer in due)
            timer.Fire();
    }

    private sealed class Timer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public TimeSpan? Due { get; set; } // guarded by the clock's lock

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (period != Timeout.InfiniteTimeSpan)
                throw new NotSupportedException("the manual clock makes one-shot timers only");
            lock (clock._lock)
                Due = dueTime == Timeout.InfiniteTimeSpan ? null : clock._elapsed + dueTime;
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._lock)
                Due = null;
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
