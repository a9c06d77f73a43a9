using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using static FedMesh.Tests.Shared.ValidPolicies;
using FedMesh.Core.Validation;

namespace FedMesh.Kubernetes.Tests.Schema;

/// <summary>
/// The CRD schemas against the validators. Checked here: every structural rule (StructuralSchemaChecker).
/// Cross-field rules are CEL in the CRDs, evaluated by a real API server but not by this checker: for those
/// the test asserts the rule is present. Zero durations are refused by the validator only.
/// </summary>
public sealed class CrdSchemaTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static TheoryData<string> StructuralCases => new(Malformed.Keys);

    [Fact]
    public void Schemas_EveryExampleResource_Accepted()
    {
        var root = FindRepoRoot();
        var checkedCount = 0;
        foreach (var file in Directory.EnumerateFiles(Path.Combine(root, "examples"), "*.yaml", SearchOption.AllDirectories))
        {
            foreach (var doc in ManifestYaml.Read(File.ReadAllText(file)).OfType<JsonObject>())
            {
                var kind = CrdCatalog.Kinds.FirstOrDefault(k => k.Kind == doc["kind"]?.GetValue<string>());
                if (doc["apiVersion"]?.GetValue<string>() != CrdCatalog.Group + "/" + CrdCatalog.Version || kind is null) continue;
                var errors = StructuralSchemaChecker.Check(SchemaOf(kind), JsonNode.Parse(doc.ToJsonString()));
                Assert.True(errors.Count == 0, $"{file}: {doc["kind"]} {doc["metadata"]?["name"]} rejected: {string.Join("; ", errors)}");
                checkedCount++;
            }
        }
        Assert.True(checkedCount >= 3, $"expected the Kubernetes examples to hold at least 3 fedmesh.io resources, found {checkedCount}");
    }

    [Theory]
    [MemberData(nameof(StructuralCases))]
    public void Schemas_MalformedCaseOfTheValidatorTests_Rejected(string name)
    {
        var (resource, field) = Malformed[name]();
        Assert.Contains(ResourceValidator.Validate(resource), e => e.Path.StartsWith(field, StringComparison.Ordinal));
        var errors = StructuralSchemaChecker.Check(SchemaOf(ResourceKinds.Of(resource.GetType())), ToJson(resource));
        Assert.Contains(errors, e => e.Field.StartsWith(field, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("TrafficSplit", "the weights sum to 0")]
    [InlineData("TrafficSplit", "merge duplicate backends")]
    [InlineData("TrafficSplit", "maxWeight must be at least stepWeight")]
    [InlineData("Link", "required when the link mirrors")]
    public void Schemas_CrossFieldRules_CarriedAsCelRules(string kind, string message)
    {
        var crd = CrdCatalog.All().Single(c => c["spec"]!["names"]!["kind"]!.GetValue<string>() == kind).ToJsonString();
        Assert.Contains("x-kubernetes-validations", crd);
        Assert.Contains(message, crd);
    }

    [Fact]
    public void Schemas_ValidResourcesOfEveryKind_Accepted()
    {
        foreach (var resource in new Resource[] { Link(), Split(), Failover() })
            Assert.Empty(StructuralSchemaChecker.Check(SchemaOf(ResourceKinds.Of(resource.GetType())), ToJson(resource)));
    }

    private static readonly Dictionary<string, Func<(Resource, string)>> Malformed = new()
    {
        ["link-missing-target"] = () => (Link(s => s.TargetCluster = ""), "spec.targetCluster"),
        ["link-identity-http"] = () => (Link(s => s.GatewayIdentity = "http://fedmesh.local/x"), "spec.gatewayIdentity"),
        ["link-identity-empty-domain"] = () => (Link(s => s.GatewayIdentity = "spiffe://"), "spec.gatewayIdentity"),
        ["link-identity-query"] = () => (Link(s => s.GatewayIdentity = "spiffe://td/x?y=1"), "spec.gatewayIdentity"),
        ["link-identity-port"] = () => (Link(s => s.GatewayIdentity = "spiffe://td:8080/x"), "spec.gatewayIdentity"),
        ["link-identity-bare"] = () => (Link(s => s.GatewayIdentity = "gateway"), "spec.gatewayIdentity"),
        ["link-address-no-port"] = () => (Link(s => s.GatewayAddress = "127.0.0.1"), "spec.gatewayAddress"),
        ["link-probe-path"] = () => (Link(s => s.Probe!.Path = "probe"), "spec.probe.path"),
        ["link-probe-timeout-unit"] = () => (Link(s => s.Probe!.Timeout = "5x"), "spec.probe.timeout"),
        ["link-probe-threshold"] = () => (Link(s => s.Probe!.FailureThreshold = 0), "spec.probe.failureThreshold"),
        ["split-no-service"] = () => (Split(s => s.Service = ""), "spec.service"),
        ["split-no-backends"] = () => (Split(s => s.Backends.Clear()), "spec.backends"),
        ["split-backend-no-service"] = () => (Split(s => s.Backends[0].Service = ""), "spec.backends[0].service"),
        ["split-weight-120"] = () => (Split(s => s.Backends[1].Weight = 120), "spec.backends[1].weight"),
        ["split-weight-negative"] = () => (Split(s => s.Backends[1].Weight = -1), "spec.backends[1].weight"),
        ["split-step-0"] = () => (Split(s => s.Analysis!.StepWeight = 0), "spec.analysis.stepWeight"),
        ["split-max-101"] = () => (Split(s => s.Analysis!.MaxWeight = 101), "spec.analysis.maxWeight"),
        ["split-interval-soon"] = () => (Split(s => s.Analysis!.Interval = "soon"), "spec.analysis.interval"),
        ["split-threshold-0"] = () => (Split(s => s.Analysis!.Threshold = 0), "spec.analysis.threshold"),
        ["split-success-above-100"] = () => (Split(s => s.Analysis!.SuccessRate!.Min = 100.5), "spec.analysis.successRate.min"),
        ["split-latency-empty"] = () => (Split(s => s.Analysis!.LatencyP99!.Max = ""), "spec.analysis.latencyP99.max"),
        ["failover-no-service"] = () => (Failover(s => s.Service = ""), "spec.service"),
        ["failover-no-targets"] = () => (Failover(s => s.Targets.Clear()), "spec.targets"),
        ["failover-duplicate-target"] = () => (Failover(s => s.Targets.Add(new FailoverTarget { Cluster = "east" })), "spec.targets[2]"),
        ["failover-empty-target"] = () => (Failover(s => s.Targets.Add(new FailoverTarget())), "spec.targets[2].cluster"),
        ["failover-healthy-101"] = () => (Failover(s => s.Trigger!.MinHealthyPercent = 101), "spec.trigger.minHealthyPercent"),
        ["failover-error-rate-negative"] = () => (Failover(s => s.Trigger!.MaxErrorRate = -1), "spec.trigger.maxErrorRate"),
        ["failover-latency-fast"] = () => (Failover(s => s.Trigger!.MaxLatencyP99 = "fast"), "spec.trigger.maxLatencyP99"),
        ["failover-failback-days"] = () => (Failover(s => s.Failback!.After = "1d"), "spec.failback.after"),
        ["failover-spill-0"] = () => (Failover(s => s.MaxSpillPercent = 0), "spec.maxSpillPercent"),
    };

    private static JsonNode ToJson(Resource resource) => JsonNode.Parse(JsonSerializer.Serialize(resource, resource.GetType(), Json))!;

    private static JsonObject SchemaOf(ResourceKind kind) =>
        JsonNode.Parse(CrdCatalog.All().Single(c => c["spec"]!["names"]!["kind"]!.GetValue<string>() == kind.Kind)["spec"]!["versions"]![0]!["schema"]!["openAPIV3Schema"]!.ToJsonString())!.AsObject();

    internal static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "FedMesh.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"no FedMesh.sln above {AppContext.BaseDirectory}");
    }
}
