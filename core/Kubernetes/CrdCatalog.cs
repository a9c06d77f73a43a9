using System.Text.Json.Nodes;
using FedMesh.Core.Resources;
using static FedMesh.Core.Kubernetes.SchemaBuilder;

namespace FedMesh.Core.Kubernetes;

/// <summary>
/// The one place the CRDs of fedmesh.io/v1alpha1 come from: their OpenAPI v3 schemas mirror the rules of
/// <see cref="Validation.ResourceValidator"/>. Structural rules (required, types, ranges, enums, patterns
/// for names, durations, host:port and SPIFFE ids) are schema; rules across fields (no duplicate
/// backends or targets, weights not all zero, maxWeight ≥ stepWeight, gateway required when mirroring)
/// are CEL rules the API server evaluates. Zero durations ("0s") match the pattern and are refused only
/// by the validator. No status subresource: an update writes spec and status together.
/// </summary>
public static class CrdCatalog
{
    public const string Group = "fedmesh.io";
    public const string Version = "v1alpha1";

    /// <summary>The CRDs, in install order.</summary>
    public static IReadOnlyList<JsonObject> All() => [Crd(ResourceKinds.Link, LinkSpec(), LinkStatus()), Crd(ResourceKinds.TrafficSplit, SplitSpec(), SplitStatus()), Crd(ResourceKinds.FailoverPolicy, FailoverSpec(), FailoverStatus())];

    /// <summary>The kinds served as custom resources.</summary>
    public static IReadOnlyList<ResourceKind> Kinds { get; } = [ResourceKinds.Link, ResourceKinds.TrafficSplit, ResourceKinds.FailoverPolicy];

    private static JsonObject Crd(ResourceKind kind, JsonObject spec, JsonObject status) => new()
    {
        ["apiVersion"] = "apiextensions.k8s.io/v1",
        ["kind"] = "CustomResourceDefinition",
        ["metadata"] = new JsonObject { ["name"] = $"{kind.Plural}.{Group}", ["labels"] = new JsonObject { ["app.kubernetes.io/part-of"] = "fedmesh" } },
        ["spec"] = new JsonObject
        {
            ["group"] = Group,
            ["scope"] = "Namespaced",
            ["names"] = new JsonObject
            {
                ["kind"] = kind.Kind,
                ["listKind"] = kind.Kind + "List",
                ["plural"] = kind.Plural,
                ["singular"] = kind.Kind.ToLowerInvariant(),
                ["shortNames"] = new JsonArray(kind.Aliases.Where(a => a != kind.Kind.ToLowerInvariant() && a.Length <= 3).Select(a => (JsonNode?)a).ToArray()),
                ["categories"] = new JsonArray("fedmesh"),
            },
            ["versions"] = new JsonArray(new JsonObject
            {
                ["name"] = Version,
                ["served"] = true,
                ["storage"] = true,
                ["schema"] = new JsonObject
                {
                    ["openAPIV3Schema"] = Object($"{kind.Kind} of FedMesh.", new JsonObject
                    {
                        ["apiVersion"] = Str("fedmesh.io/v1alpha1"),
                        ["kind"] = Str(kind.Kind),
                        ["metadata"] = new JsonObject { ["type"] = "object" },
                        ["spec"] = spec,
                        ["status"] = status,
                    }, "spec"),
                },
            }),
        },
    };

    private static JsonObject LinkSpec() => Object("A link to the target cluster; lives in the cluster that mirrors.", new JsonObject
    {
        ["targetCluster"] = DnsLabel("The linked cluster's name."),
        ["gatewayAddress"] = Str("host:port of the target's gateway (required when mirroring).", "^$|" + HostPortPattern),
        ["gatewayIdentity"] = Str("SPIFFE id the target's gateway presents (required when mirroring).", "^$|" + SpiffePattern),
        ["mirror"] = Bool("Mirror the target's exported services (false: only admit its traffic)."),
        ["probe"] = Object("Gateway liveness probe.", new JsonObject
        {
            ["path"] = Str("Absolute path probed.", "^/"),
            ["period"] = Duration("Time between probes."),
            ["timeout"] = Duration("Time a probe may take."),
            ["failureThreshold"] = Int("Failures before the link is down.", 1),
        }),
        ["selector"] = Object("Which exported services to mirror.", new JsonObject { ["matchLabels"] = StringMap("Labels a service must carry.") }),
        ["credentialsSecret"] = DnsLabel("Secret (same namespace) with the target's API address, token and CA."),
    }, "targetCluster").WithRules(
        ("has(self.mirror) && !self.mirror || (has(self.gatewayAddress) && size(self.gatewayAddress) > 0 && has(self.gatewayIdentity) && size(self.gatewayIdentity) > 0)",
         "gatewayAddress and gatewayIdentity are required when the link mirrors"));

    private static JsonObject LinkStatus() => Object("Observed state of the link.", new JsonObject
    {
        ["alive"] = Bool("The last probes succeeded."),
        ["lastProbe"] = Str("RFC 3339 time of the last probe."),
        ["latency"] = Object("Probe latency percentiles in ms.", new JsonObject { ["p50"] = Number("p50"), ["p95"] = Number("p95"), ["p99"] = Number("p99") }),
        ["mirroredServices"] = Int("Services mirrored through this link.", 0),
        ["conditions"] = Conditions(),
    });

    private static JsonObject SplitSpec() => Object("Weighted backends for a service.", new JsonObject
    {
        ["service"] = DnsLabel("The service whose traffic is split."),
        ["backends"] = Array("Backends and their weights.", Object("A backend.", new JsonObject
        {
            ["service"] = DnsLabel("Backend service."),
            ["cluster"] = DnsLabel("Cluster of the backend (empty: this cluster)."),
            ["weight"] = Int("Share of traffic, 0..100.", 0, 100),
        }, "service", "weight"), minItems: 1).WithRules(
            ("self.exists(b, b.weight > 0)", "the weights sum to 0, so no traffic could be sent; give at least one backend a weight above 0"),
            ("self.all(a, self.exists_one(b, b.service == a.service && (has(b.cluster) ? b.cluster : '') == (has(a.cluster) ? a.cluster : '')))", "each service and cluster may appear once; merge duplicate backends")),
        ["analysis"] = Object("Progressive canary analysis.", new JsonObject
        {
            ["stepWeight"] = Int("Weight added per step.", 1, 100),
            ["maxWeight"] = Int("Highest canary weight.", 1, 100),
            ["interval"] = Duration("Time between steps."),
            ["threshold"] = Int("Failed checks before rollback.", 1),
            ["successRate"] = Object("Success-rate check.", new JsonObject { ["min"] = Number("Minimum success rate in percent.", 0, 100) }, "min"),
            ["latencyP99"] = Object("Latency check.", new JsonObject { ["max"] = Duration("Highest p99 latency.") }, "max"),
        }).WithRules(("self.maxWeight >= self.stepWeight", "maxWeight must be at least stepWeight")),
    }, "service", "backends");

    private static JsonObject SplitStatus() => Object("Observed state of the split.", new JsonObject
    {
        ["weights"] = Array("Current weights.", Object("A backend weight.", new JsonObject { ["service"] = Str("Service."), ["cluster"] = Str("Cluster."), ["weight"] = Int("Weight.") })),
        ["phase"] = Str("Canary phase."),
        ["lastAnalysis"] = Str("Result of the last analysis."),
        ["history"] = Array("Recent analysis results.", Str("One result.")),
        ["conditions"] = Conditions(),
    });

    private static JsonObject FailoverSpec() => Object("Ordered failover targets for a service.", new JsonObject
    {
        ["service"] = DnsLabel("The service that fails over."),
        ["targets"] = new JsonObject
        {
            ["type"] = "array",
            ["description"] = "Clusters in order of preference; each once.",
            ["minItems"] = 1,
            ["x-kubernetes-list-type"] = "map",
            ["x-kubernetes-list-map-keys"] = new JsonArray("cluster"),
            ["items"] = Object("A target.", new JsonObject { ["cluster"] = DnsLabel("Target cluster.") }, "cluster"),
        },
        ["trigger"] = Object("When to move on.", new JsonObject
        {
            ["minHealthyPercent"] = Int("Least healthy share of endpoints, 0..100.", 0, 100),
            ["maxErrorRate"] = Number("Highest error rate in percent over the window.", 0, 100),
            ["maxLatencyP99"] = Duration("Highest p99 latency over the window."),
            ["window"] = Duration("Window the trigger looks at."),
        }),
        ["failback"] = Object("When to come back.", new JsonObject { ["after"] = Duration("Healthy time before failing back.") }),
        ["maxSpillPercent"] = Int("Most traffic moved to another target, 1..100.", 1, 100),
    }, "service", "targets");

    private static JsonObject FailoverStatus() => Object("Observed state of the policy.", new JsonObject
    {
        ["activeTarget"] = Str("Target now taking traffic."),
        ["since"] = Str("RFC 3339 time it took over."),
        ["reason"] = Str("Why."),
        ["conditions"] = Conditions(),
    });
}
