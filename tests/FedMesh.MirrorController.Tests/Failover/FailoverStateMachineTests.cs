using FedMesh.MirrorController.Failover;

namespace FedMesh.MirrorController.Tests.Failover;

public sealed class FailoverStateMachineTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Evaluate_PrimaryDown_MovesAtOnce_FailbackOnlyAfterContinuousHealth()
    {
        var machine = new FailoverStateMachine(["east", "west"], 50, TimeSpan.FromSeconds(30));
        machine.Evaluate([100, 100], T0);
        Assert.Equal(0, machine.Active);

        Assert.True(machine.Evaluate([0, 100], T0.AddSeconds(1)));
        Assert.Equal(1, machine.Active);
        Assert.StartsWith("Failover", machine.Reason);

        Assert.False(machine.Evaluate([100, 100], T0.AddSeconds(2)));
        Assert.False(machine.Evaluate([0, 100], T0.AddSeconds(10))); // flapped: the clock restarts
        Assert.False(machine.Evaluate([100, 100], T0.AddSeconds(11)));
        Assert.Equal(T0.AddSeconds(41), machine.FailbackDue());
        Assert.False(machine.Evaluate([100, 100], T0.AddSeconds(40)));
        Assert.True(machine.Evaluate([100, 100], T0.AddSeconds(41)));
        Assert.Equal(0, machine.Active);
        Assert.StartsWith("Failback", machine.Reason);
    }

    [Fact]
    public void Evaluate_BelowMinHealthyPercent_CountsAsDown_AndNoHealthyTargetStays()
    {
        var machine = new FailoverStateMachine(["west", "north"], 50, TimeSpan.FromSeconds(5));
        machine.Evaluate([100, 100], T0);
        Assert.True(machine.Evaluate([40, 100], T0.AddSeconds(1)));
        Assert.Equal(1, machine.Active);
        Assert.False(machine.Evaluate([0, 0], T0.AddSeconds(2)));
        Assert.Equal(1, machine.Active);
    }
}
