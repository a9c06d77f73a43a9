using FedMesh.Core.Resources;
using FedMesh.MirrorController.Failover;
using FedMesh.MirrorController.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.MirrorController.Tests.Failover;

public sealed class FailoverPolicyStatusTests
{
    private static FailoverPolicy Policy(params string[] targets)
    {
        var policy = new FailoverPolicy();
        policy.Metadata.Name = "echo";
        policy.Metadata.Namespace = "default";
        policy.Spec.Service = "echo";
        foreach (var t in targets) policy.Spec.Targets.Add(new FailoverTarget { Cluster = t });
        return policy;
    }

    [Fact]
    public async Task Status_TargetClusterNotLinked_StoredWithWarningConditionThenClearedByLink()
    {
        var east = new InMemoryClusterStore("east");
        var west = new InMemoryClusterStore("west");
        var north = new InMemoryClusterStore("north");
        await east.CreateAsync(Objects.Service("echo"));
        await east.CreateAsync(Objects.Endpoints("echo", "default", "127.0.0.1:9001"));
        await east.CreateAsync(Objects.Link("west"));
        await east.CreateAsync(Policy("east", "west", "north"));
        await using var controller = await RunningController.StartAsync(east, new DictionaryTargetResolver(west, north));

        var warned = await Eventually.ValueAsync(() => east.GetAsync<FailoverPolicy>("default", "echo"),
            p => p?.Status?.Conditions?.Find(c => c.Type == FailoverCoordinator.TargetsLinkedCondition)?.Status == "False",
            "the policy's TargetsLinked condition to turn False");
        var condition = warned!.Status!.Conditions!.Single(c => c.Type == FailoverCoordinator.TargetsLinkedCondition);
        Assert.Equal("TargetNotLinked", condition.Reason);
        Assert.Contains("north", condition.Message);
        Assert.DoesNotContain("west", condition.Message);
        Assert.Equal("east", warned.Status.ActiveTarget);
        Assert.Equal(3, warned.Spec.Targets.Count); // stored as given, never trimmed

        await east.CreateAsync(Objects.Link("north"));
        await Eventually.ValueAsync(() => east.GetAsync<FailoverPolicy>("default", "echo"),
            p => p?.Status?.Conditions?.Find(c => c.Type == FailoverCoordinator.TargetsLinkedCondition)?.Status == "True",
            "the condition to clear once north is linked");
    }
}
