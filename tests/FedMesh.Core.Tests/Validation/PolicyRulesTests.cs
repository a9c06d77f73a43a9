using FedMesh.Core.Resources;
using static FedMesh.Tests.Shared.ValidPolicies;
using static FedMesh.Core.Tests.Validation.ValidationAssert;

namespace FedMesh.Core.Tests.Validation;

public sealed class PolicyRulesTests
{

    [Fact]
    public void Validate_CompleteSplit_IsValid() => Valid(Split());

    [Fact]
    public void Validate_SplitWithoutServiceOrBackends_ReportsBoth()
        => Invalid(Split(s => { s.Service = ""; s.Backends.Clear(); }), "spec.service", "spec.backends");

    [Fact]
    public void Validate_SplitBackendRules_ReportsEveryBackend()
    {
        var errors = Invalid(Split(s =>
        {
            s.Backends[0].Service = "";
            s.Backends[1].Weight = 120;
            s.Backends.Add(new SplitBackend { Service = "web", Cluster = "west", Weight = -1 });
        }), "spec.backends[0].service", "spec.backends[1].weight", "spec.backends[2].weight", "spec.backends[2]");
        Assert.Contains(errors, e => e.Message == "must be between 0 and 100 (got 120)");
        Assert.Contains(errors, e => e.Message.StartsWith("duplicates spec.backends[1]"));
    }

    [Fact]
    public void Validate_SplitWeightsSumToZero_Reported()
        => Assert.Contains("sum to 0", Invalid(Split(s => { s.Backends[0].Weight = 0; s.Backends[1].Weight = 0; }), "spec.backends")[0].Message);

    [Fact]
    public void Validate_SplitAnalysisRules_ReportsEveryField()
        => Invalid(Split(s => s.Analysis = new CanaryAnalysis
        {
            StepWeight = 0, MaxWeight = 101, Interval = "soon", Threshold = 0,
            SuccessRate = new SuccessRateCheck { Min = 100.5 }, LatencyP99 = new LatencyCheck { Max = "" },
        }), "spec.analysis.stepWeight", "spec.analysis.maxWeight", "spec.analysis.interval", "spec.analysis.threshold",
           "spec.analysis.successRate.min", "spec.analysis.latencyP99.max");

    [Fact]
    public void Validate_SplitMaxWeightBelowStepWeight_Reported()
        => Assert.Contains("at least stepWeight (20)", Invalid(Split(s => s.Analysis = new CanaryAnalysis { StepWeight = 20, MaxWeight = 10 }), "spec.analysis.maxWeight")[0].Message);

    [Fact]
    public void Validate_CompleteFailover_IsValid() => Valid(Failover());

    [Fact]
    public void Validate_FailoverWithoutTargets_Reported()
        => Invalid(Failover(s => s.Targets.Clear()), "spec.targets");

    [Fact]
    public void Validate_FailoverTargetsMissingOrDuplicated_ReportsEach()
        => Invalid(Failover(s => { s.Service = ""; s.Targets.Add(new FailoverTarget { Cluster = "east" }); s.Targets.Add(new FailoverTarget()); }),
            "spec.service", "spec.targets[2].cluster", "spec.targets[3].cluster");

    [Fact]
    public void Validate_FailoverTriggerFailbackAndSpill_ReportsEveryField()
        => Invalid(Failover(s =>
        {
            s.Trigger = new FailoverTrigger { MinHealthyPercent = 101, MaxErrorRate = -1, MaxLatencyP99 = "fast", Window = "0" };
            s.Failback = new FailbackSpec { After = "1d" };
            s.MaxSpillPercent = 0;
        }), "spec.trigger.minHealthyPercent", "spec.trigger.maxErrorRate", "spec.trigger.maxLatencyP99", "spec.trigger.window",
           "spec.failback.after", "spec.maxSpillPercent");
}
