using FedMesh.MirrorController.Discovery;

namespace FedMesh.MirrorController.Tests.Discovery;

public sealed class PublishPacerTests
{
    private sealed class ManualClock : TimeProvider
    {
        public long Ticks { get; set; } = 1_000_000;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(30);
    private readonly ManualClock _clock = new();

    [Fact]
    public void DelayBeforeBuild_FirstChange_BuildsAtOnce()
    {
        var pacer = new PublishPacer(Interval, _clock);

        Assert.Equal(TimeSpan.Zero, pacer.DelayBeforeBuild());
    }

    [Fact]
    public void DelayBeforeBuild_ChangeWithinInterval_WaitsForTheRestOfIt()
    {
        var pacer = new PublishPacer(Interval, _clock);
        pacer.Building();
        _clock.Advance(TimeSpan.FromMilliseconds(12));

        Assert.Equal(TimeSpan.FromMilliseconds(18), pacer.DelayBeforeBuild());
    }

    [Fact]
    public void DelayBeforeBuild_ChangeAfterQuietInterval_BuildsAtOnce()
    {
        var pacer = new PublishPacer(Interval, _clock);
        pacer.Building();
        _clock.Advance(Interval);

        Assert.Equal(TimeSpan.Zero, pacer.DelayBeforeBuild());
    }

    [Fact]
    public void DelayBeforeBuild_ZeroInterval_NeverWaits()
    {
        var pacer = new PublishPacer(TimeSpan.Zero, _clock);
        pacer.Building();

        Assert.Equal(TimeSpan.Zero, pacer.DelayBeforeBuild());
    }
}
