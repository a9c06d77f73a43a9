using FedMesh.Core.Resources;

namespace FedMesh.Tests.Shared;

/// <summary>
/// Valid Link, TrafficSplit and FailoverPolicy objects that a test breaks one field at a time. Shared
/// (linked into each test project) so the validator tests and the CRD schema tests start from the same objects.
/// </summary>
internal static class ValidPolicies
{
    public static Link Link(Action<LinkSpec>? change = null)
    {
        var link = new Link
        {
            Metadata = new ObjectMeta { Name = "west", Namespace = WellKnown.SystemNamespace },
            Spec = new LinkSpec
            {
                TargetCluster = "west", GatewayAddress = "127.0.0.1:4143",
                GatewayIdentity = "spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway", Probe = new ProbeSpec(),
            },
        };
        change?.Invoke(link.Spec);
        return link;
    }

    public static TrafficSplit Split(Action<TrafficSplitSpec>? change = null)
    {
        var split = new TrafficSplit
        {
            Metadata = new ObjectMeta { Name = "web" },
            Spec = new TrafficSplitSpec
            {
                Service = "web",
                Backends = [new SplitBackend { Service = "web", Weight = 90 }, new SplitBackend { Service = "web", Cluster = "west", Weight = 10 }],
                Analysis = new CanaryAnalysis { SuccessRate = new SuccessRateCheck { Min = 99 }, LatencyP99 = new LatencyCheck { Max = "300ms" } },
            },
        };
        change?.Invoke(split.Spec);
        return split;
    }

    public static FailoverPolicy Failover(Action<FailoverPolicySpec>? change = null)
    {
        var policy = new FailoverPolicy
        {
            Metadata = new ObjectMeta { Name = "web" },
            Spec = new FailoverPolicySpec
            {
                Service = "web",
                Targets = [new FailoverTarget { Cluster = "east" }, new FailoverTarget { Cluster = "west" }],
                Trigger = new FailoverTrigger { MaxErrorRate = 5, MaxLatencyP99 = "250ms" },
                Failback = new FailbackSpec(),
            },
        };
        change?.Invoke(policy.Spec);
        return policy;
    }
}
