using FedMesh.Core.Telemetry;

namespace FedMesh.Core.Tests.Telemetry;

public sealed class RequestStatsRecorderTests
{
    private static readonly RequestKey Key = new("default", "web", "web-v2-west", "east", "west");

    [Fact]
    public void Drain_AfterRecords_ReturnsOnlyTheGrowthSinceTheLastDrain()
    {
        var recorder = new RequestStatsRecorder();
        var cell = recorder.Cell(Key);
        cell.Record(failed: false, 0.3);
        cell.Record(failed: true, 52);
        var first = Assert.Single(recorder.Drain());
        Assert.Equal(2UL, first.Requests);
        Assert.Equal(1UL, first.Failures);
        Assert.Equal(1UL, first.LatencyBuckets[LatencyBuckets.IndexOf(0.3)]);
        Assert.Equal(1UL, first.LatencyBuckets[LatencyBuckets.IndexOf(52)]);
        Assert.Equal(52.3, first.LatencySumMs, 2);

        Assert.Empty(recorder.Drain());
        cell.Record(failed: false, 1);
        var second = Assert.Single(recorder.Drain());
        Assert.Equal(1UL, second.Requests);
        Assert.Equal(0UL, second.Failures);
        Assert.Equal(1UL, second.LatencyBuckets.Aggregate(0UL, (a, b) => a + b));
    }

    [Fact]
    public void Cell_SameKey_ReturnsTheSameCell()
    {
        var recorder = new RequestStatsRecorder();
        Assert.Same(recorder.Cell(Key), recorder.Cell(Key with { }));
    }

    [Theory]
    [InlineData(0.01, 0)]
    [InlineData(0.025, 0)]
    [InlineData(0.026, 1)]
    [InlineData(30000, 54)]
    [InlineData(40000, 55)]
    public void IndexOf_UpperBoundsInclusive(double ms, int index) => Assert.Equal(index, LatencyBuckets.IndexOf(ms));

    [Fact]
    public void Percentile_SamplesInOneBucket_InterpolatesInsideIt()
    {
        var counts = new ulong[LatencyBuckets.Count];
        counts[LatencyBuckets.IndexOf(52)] = 100; // (50, 55]
        var p50 = LatencyBuckets.Percentile(counts, 0.5);
        Assert.InRange(p50, 50, 55);
        Assert.Equal(0, LatencyBuckets.Percentile(new ulong[LatencyBuckets.Count], 0.5));
    }
    [Fact]
    public async Task WhenCountedAsync_PendingUntilARequestIsCounted_AndAgainAfterEachDrain()
    {
        var recorder = new RequestStatsRecorder();
        var cell = recorder.Cell(Key);
        var first = recorder.WhenCountedAsync(CancellationToken.None);
        var pendingBefore = !first.IsCompleted;

        cell.Record(200, 1.0);
        await first.WaitAsync(TimeSpan.FromSeconds(5));
        var countedAgain = recorder.WhenCountedAsync(CancellationToken.None).IsCompleted; // not drained yet
        recorder.Drain();
        var afterDrain = recorder.WhenCountedAsync(CancellationToken.None);
        var pendingAfterDrain = !afterDrain.IsCompleted;
        cell.Record(500, 2.0);
        await afterDrain.WaitAsync(TimeSpan.FromSeconds(5));
        using var cancel = new CancellationTokenSource();
        recorder.Drain();
        var cancelled = recorder.WhenCountedAsync(cancel.Token);
        cancel.Cancel();

        Assert.True(pendingBefore);
        Assert.True(countedAgain);
        Assert.True(pendingAfterDrain);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
    }
}
