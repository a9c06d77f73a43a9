using FedMesh.Core.Resources;
using FedMesh.Core.Yaml;

namespace FedMesh.Core.Tests.Yaml;

public sealed class ResourceCodecEncodeTests
{
    private static TrafficSplit Split() => new()
    {
        Metadata = new ObjectMeta { Name = "web", Namespace = "shop", ResourceVersion = "7", Labels = new() { ["tier"] = "true" } },
        Spec = new TrafficSplitSpec
        {
            Service = "web",
            Backends = [new SplitBackend { Service = "web", Weight = 90 }, new SplitBackend { Service = "web", Cluster = "west", Weight = 10 }],
            Analysis = new CanaryAnalysis { StepWeight = 5, MaxWeight = 40, Interval = "1m", SuccessRate = new SuccessRateCheck { Min = 99.5 } },
        },
        Status = new TrafficSplitStatus { Phase = "Progressing", History = ["started"] },
    };

    [Fact]
    public void Encode_Resource_WritesCamelCaseInStableOrderWithoutNulls()
    {
        var yaml = ResourceCodec.Encode(Split());
        var lines = yaml.Split('\n');
        Assert.Equal("apiVersion: fedmesh.io/v1alpha1", lines[0]);
        Assert.Equal("kind: TrafficSplit", lines[1]);
        Assert.Equal("metadata:", lines[2]);
        Assert.Contains("  resourceVersion: \"7\"", lines);
        Assert.Contains("    tier: \"true\"", lines);
        Assert.True(Array.IndexOf(lines, "spec:") < Array.IndexOf(lines, "status:"));
        Assert.DoesNotContain("latencyP99", yaml);
        Assert.DoesNotContain("lastAnalysis", yaml);
        Assert.DoesNotContain("\nname:", yaml);
    }

    [Fact]
    public void Decode_EncodedResources_RoundTrips()
    {
        var link = new Link
        {
            Metadata = new ObjectMeta { Name = "west", Namespace = WellKnown.SystemNamespace },
            Spec = new LinkSpec
            {
                TargetCluster = "west", GatewayAddress = "127.0.0.1:4143", GatewayIdentity = "spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/gateway",
                Probe = new ProbeSpec { Period = "2s" }, Selector = new LabelSelector { MatchLabels = new() { ["app"] = "web" } },
            },
            Status = new LinkStatus { Alive = true, Latency = new LatencySummary { P50 = 1.5, P99 = 9 } },
        };
        var original = new Resource[] { Split(), link };
        var text = ResourceCodec.Encode(original);
        var decoded = ResourceCodec.Decode(text, "round.yaml");
        Assert.Equal(2, decoded.Count);
        Assert.Equal(text, ResourceCodec.Encode(decoded));
        var split = Assert.IsType<TrafficSplit>(decoded[0]);
        Assert.Equal(99.5, split.Spec.Analysis!.SuccessRate!.Min);
        Assert.Equal("7", split.Metadata.ResourceVersion);
        Assert.Equal("true", split.Metadata.Labels!["tier"]);
        Assert.Equal(9, Assert.IsType<Link>(decoded[1]).Status!.Latency!.P99);
    }

    [Fact]
    public void EncodeJson_Resource_WritesCamelCaseWithoutComputedFields()
    {
        var json = ResourceCodec.EncodeJson(Split());
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        var root = doc.RootElement;
        Assert.Equal(["apiVersion", "kind", "metadata", "spec", "status"], root.EnumerateObject().Select(p => p.Name).ToArray());
        Assert.Equal("west", root.GetProperty("spec").GetProperty("backends")[1].GetProperty("cluster").GetString());
        Assert.False(root.GetProperty("spec").GetProperty("backends")[0].TryGetProperty("cluster", out _));
    }

    [Fact]
    public void EncodeJson_PlainObject_UsesCamelCase()
    {
        var json = ResourceCodec.EncodeJson(new { ClusterName = "east", Alive = true });
        Assert.Contains("\"clusterName\": \"east\"", json);
    }
}
