using FedMesh.Core.Forwarding;
using FedMesh.Core.Tests.Identity;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>
/// When a client's pools are swept: every period while requests hold connections, once at the first idle connection's
/// expiry when all are idle, never while the pools are empty; and a request always sets the period going again.
/// </summary>
public sealed class SweepTimerTests
{
    private readonly ManualTimeProvider _time = new(DateTimeOffset.UnixEpoch);
    private readonly Queue<TimeSpan?> _answers = new();
    private int _sweeps;

    private TimeSpan? Sweep()
    {
        _sweeps++;
        return _answers.Count > 0 ? _answers.Dequeue() : null;
    }

    [Fact]
    public void New_NothingDemanded_NeverSweeps()
    {
        using var timer = new SweepTimer(_time, Sweep);

        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.Equal(0, _sweeps);
        Assert.False(timer.Ticking);
    }

    [Fact]
    public void Demand_SweepsEveryPeriodWhileARequestIsUnderWay_ThenStopsOnceThePoolsAreEmpty()
    {
        using var timer = new SweepTimer(_time, Sweep);
        _answers.Enqueue(TimeSpan.Zero);
        _answers.Enqueue(TimeSpan.Zero);
        _answers.Enqueue(null);

        timer.Demand();
        var ticking = timer.Ticking;
        for (var i = 0; i < 3; i++)
            _time.Advance(SweepTimer.Period);
        var afterThree = _sweeps;
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.True(ticking);
        Assert.Equal(3, afterThree);
        Assert.Equal(3, _sweeps);
        Assert.False(timer.Ticking);
        Assert.Equal(0, _time.PendingTimers);
    }

    [Fact]
    public void Sweep_AllConnectionsIdle_NextSweepAtTheFirstExpiryOnly()
    {
        using var timer = new SweepTimer(_time, Sweep);
        _answers.Enqueue(TimeSpan.FromMinutes(3)); // the first idle connection expires in three minutes
        timer.Demand();

        _time.Advance(SweepTimer.Period);
        _time.Advance(TimeSpan.FromMinutes(3) - TimeSpan.FromMilliseconds(1));
        var beforeExpiry = _sweeps;
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(1, beforeExpiry);
        Assert.Equal(2, _sweeps);
        Assert.False(timer.Ticking);
    }

    [Fact]
    public void Sweep_ConnectionExpiresWithinAPeriod_KeepsTheEveryPeriodSweep()
    {
        using var timer = new SweepTimer(_time, Sweep);
        _answers.Enqueue(TimeSpan.FromMilliseconds(300));
        timer.Demand();

        _time.Advance(SweepTimer.Period);
        _time.Advance(SweepTimer.Period);

        Assert.Equal(2, _sweeps);
    }

    [Fact]
    public void Demand_WhileTheTimerWaitsForAnExpiry_SweepsEveryPeriodAgain()
    {
        using var timer = new SweepTimer(_time, Sweep);
        _answers.Enqueue(TimeSpan.FromMinutes(3));
        timer.Demand();
        _time.Advance(SweepTimer.Period);

        timer.Demand(); // a request takes the idle connection, and holds it
        _answers.Enqueue(TimeSpan.Zero);
        _answers.Enqueue(TimeSpan.Zero);
        _time.Advance(SweepTimer.Period);
        _time.Advance(SweepTimer.Period);

        Assert.Equal(3, _sweeps);
        Assert.True(timer.Ticking);
    }

    [Fact]
    public void Demand_WhileASweepRuns_TheNextPeriodStillSweeps()
    {
        // The sweep saw nothing under way, but a request took a connection as it ran: the timer must not stop.
        SweepTimer? timer = null;
        using var owned = timer = new SweepTimer(_time, () =>
        {
            _sweeps++;
            if (_sweeps == 1)
                timer!.Demand();
            return null;
        });
        timer.Demand();

        _time.Advance(SweepTimer.Period);
        _time.Advance(SweepTimer.Period);

        Assert.Equal(2, _sweeps);
        Assert.False(timer.Ticking); // the second sweep found nothing and nothing asked since
    }

    [Fact]
    public void Dispose_StopsSweepingAndIgnoresLaterDemands()
    {
        var timer = new SweepTimer(_time, Sweep);
        timer.Demand();

        timer.Dispose();
        timer.Demand();
        _time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal(0, _sweeps);
        Assert.Equal(0, _time.PendingTimers);
    }
}
