using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.Tests.Support;

namespace FedMesh.Proxy.Tests.Forwarding;

public sealed class LogThrottleTests
{
    [Fact]
    public void TryEnter_OnePerInterval_CountsTheRest()
    {
        var time = new ManualTimeProvider();
        var throttle = new LogThrottle(time, TimeSpan.FromSeconds(5));

        Assert.True(throttle.TryEnter(out var first));
        Assert.Equal(0, first);
        Assert.False(throttle.TryEnter(out _));
        Assert.False(throttle.TryEnter(out _));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(throttle.TryEnter(out _));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(throttle.TryEnter(out var held));
        Assert.Equal(3, held);
    }
}
