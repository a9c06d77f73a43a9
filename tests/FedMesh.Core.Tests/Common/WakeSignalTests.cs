using FedMesh.Core.Common;

namespace FedMesh.Core.Tests.Common;

public sealed class WakeSignalTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task SetTwiceBeforeAWait_WakesOnceThenTheNextWaitTimesOut()
    {
        using var signal = new WakeSignal();
        signal.Set();
        signal.Set();

        Assert.True(await signal.WaitAsync(Short, TimeProvider.System, CancellationToken.None));
        Assert.False(await signal.WaitAsync(Short, TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public async Task SetWhileWaiting_WakesTheWaiter()
    {
        using var signal = new WakeSignal();
        var waiting = signal.WaitAsync(null, TimeProvider.System, CancellationToken.None);
        Assert.False(waiting.IsCompleted);

        signal.Set();

        Assert.True(await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task TryTake_TakesASetSignalOnce()
    {
        using var signal = new WakeSignal();
        Assert.False(signal.TryTake());
        signal.Set();
        Assert.True(signal.TryTake());
        Assert.False(await signal.WaitAsync(TimeSpan.Zero, TimeProvider.System, CancellationToken.None));
    }

    [Fact]
    public async Task Cancelled_Throws_RatherThanReportingATimeout()
    {
        using var signal = new WakeSignal();
        using var cancel = new CancellationTokenSource();
        var waiting = signal.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System, cancel.Token);

        cancel.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
    }
}
