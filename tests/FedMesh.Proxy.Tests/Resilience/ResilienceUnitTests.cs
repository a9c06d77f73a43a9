using FedMesh.Proxy.Resilience;
using FedMesh.Proxy.Tests.Support;

namespace FedMesh.Proxy.Tests.Resilience;

public sealed class ResilienceUnitTests
{
    private static readonly ResilienceOptions Options = new ResilienceOptions().Validated();

    [Fact]
    public void RetryBudget_FailingBackend_AllowsTwentyPercentPlusTenPerSecond()
    {
        var time = new ManualTimeProvider();
        var budget = new RetryBudget(Options, time);
        var granted = 0;
        for (var second = 0; second < 10; second++)
        {
            for (var i = 0; i < 100; i++)
            {
                budget.Deposit();
                if (budget.TryWithdraw()) granted++;
            }
            time.Advance(TimeSpan.FromSeconds(1));
        }
        // 1,000 requests in the window: 20 % of them plus 10/s × 10 s.
        Assert.InRange(granted, 250, 300);
    }

    [Fact]
    public void FailureAccrual_SevenFailures_EjectsThenOneProbationDecides()
    {
        var time = new ManualTimeProvider();
        var accrual = new FailureAccrual(new AccrualSettings(Options, time, new Random(1)));
        for (var i = 0; i < 6; i++)
            Assert.False(accrual.OnFailure(time.GetTimestamp()));
        Assert.True(accrual.OnFailure(time.GetTimestamp()));
        Assert.False(accrual.IsOpen);
        Assert.False(accrual.TryClaimProbation(time.GetTimestamp()));
        time.Advance(TimeSpan.FromSeconds(1.3)); // 1 s ± 20 %
        Assert.True(accrual.TryClaimProbation(time.GetTimestamp()));
        Assert.False(accrual.TryClaimProbation(time.GetTimestamp())); // exactly one probation request
        Assert.True(accrual.OnFailure(time.GetTimestamp())); // failed probation: ejected again, longer
        Assert.Equal(1, accrual.Level);
        time.Advance(TimeSpan.FromSeconds(1.3));
        Assert.False(accrual.TryClaimProbation(time.GetTimestamp())); // 2 s ± 20 % not over yet
        time.Advance(TimeSpan.FromSeconds(1.2));
        Assert.True(accrual.TryClaimProbation(time.GetTimestamp()));
        accrual.OnSuccess();
        Assert.True(accrual.IsOpen);
        Assert.Equal(0, accrual.Level);
    }

    [Fact]
    public void AccrualSettings_Backoff_IsCappedAtOneMinute()
    {
        var time = new ManualTimeProvider();
        var settings = new AccrualSettings(Options, time, new Random(2));
        var max = TimeSpan.FromMinutes(1).Ticks * time.TimestampFrequency / TimeSpan.TicksPerSecond;
        Assert.All(Enumerable.Range(0, 20), level => Assert.InRange(settings.Delay(level), 1, max));
    }

    [Fact]
    public void Options_Invalid_ListsEveryError()
    {
        var e = Assert.Throws<ArgumentException>(() => new ResilienceOptions { ConsecutiveFailures = 0, BudgetRatio = 2, MaxRetries = -1 }.Validated());
        Assert.Contains("ConsecutiveFailures", e.Message);
        Assert.Contains("BudgetRatio", e.Message);
        Assert.Contains("MaxRetries", e.Message);
    }
}
