using System.Text.Json.Nodes;
using FedMesh.Core.Kubernetes;

namespace FedMesh.Kubernetes.Tests.Manifests;

public sealed class ManifestGoldenTests
{
    private const string Cert = "-----BEGIN CERTIFICATE-----\nMIIBissuer\n-----END CERTIFICATE-----\n";
    private const string Key = "-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n";
    private const string Anchor = "-----BEGIN CERTIFICATE-----\nMIIBanchor\n-----END CERTIFICATE-----\n";

    private static InstallOptions Options(int gatewayPort = 4143) => new()
    {
        Cluster = "east", GatewayPort = gatewayPort, IssuerCertificatePem = Cert, IssuerKeyPem = Key, TrustAnchorPem = Anchor,
    };

    [Fact]
    public void Install_EastWithGatewayPort14143_MatchesGolden()
        => GoldenFile.AssertMatches("install-east.yaml", ManifestYaml.Write(InstallManifests.Render(Options(14143))));

    [Fact]
    public void Install_Output_IsValidYamlThatReadsBackTheSame()
    {
        var text = ManifestYaml.Write(InstallManifests.Render(Options()));
        var back = ManifestYaml.Read(text);
        Assert.Equal(InstallManifests.Render(Options()).Select(d => d.ToJsonString()), back.Select(d => d.ToJsonString()));
    }

    [Fact]
    public void Install_BadGatewayPort_ListsTheProblem()
    {
        var e = Assert.Throws<ArgumentException>(() => InstallManifests.Render(Options(70000)));
        Assert.Contains("gateway port must be between 1 and 65535 (got 70000)", e.Message);
    }

    [Fact]
    public void Install_ControllerRbac_HasOnlyTheVerbsItNeeds()
    {
        var role = InstallManifests.Render(Options()).Single(d => d["kind"]!.GetValue<string>() == "ClusterRole");
        var text = role.ToJsonString();
        Assert.DoesNotContain("\"*\"", text);
        Assert.DoesNotContain("secrets", text);
        var crRule = role["rules"]!.AsArray().Single(r => r!["apiGroups"]![0]!.GetValue<string>() == "fedmesh.io")!;
        Assert.DoesNotContain("create", crRule["verbs"]!.ToJsonString());
        // Pods are only listed and watched (injected pods behind Services' EndpointSlices), never read by name or written.
        var podRule = role["rules"]!.AsArray().Single(r => r!["resources"]!.AsArray().Any(x => x!.GetValue<string>() == "pods"))!;
        Assert.Equal(["pods"], podRule["resources"]!.AsArray().Select(x => x!.GetValue<string>()));
        Assert.Equal(["list", "watch"], podRule["verbs"]!.AsArray().Select(x => x!.GetValue<string>()));
    }

    [Fact]
    public void Inject_EchoExample_MatchesGolden()
        => GoldenFile.AssertMatches("inject-echo.yaml", SidecarInjector.Inject(Example(), East));

    [Fact]
    public void Inject_Twice_EqualsOnce()
    {
        var once = SidecarInjector.Inject(Example(), East);
        Assert.Equal(once, SidecarInjector.Inject(once, East));
    }

    [Fact]
    public void Inject_NonWorkloadDocuments_PassThroughUnchanged()
    {
        var docs = ManifestYaml.Read(SidecarInjector.Inject(Example(), East));
        var service = docs.OfType<JsonObject>().Single(d => d["kind"]!.GetValue<string>() == "Service");
        Assert.Equal(ManifestYaml.Read(Example())[0].ToJsonString(), service.ToJsonString());
        var pod = docs.OfType<JsonObject>().Single(d => d["kind"]!.GetValue<string>() == "Deployment")["spec"]!["template"]!["spec"]!;
        Assert.Equal(["echo", "fedmesh-proxy"], pod["containers"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
        Assert.Contains("NET_ADMIN", pod["initContainers"]![0]!["securityContext"]!.ToJsonString());
    }

    [Fact]
    public void Inject_PodTemplate_CarriesTheLabelTheControllerSelectsPodsBy()
    {
        var docs = ManifestYaml.Read(SidecarInjector.Inject(Example(), East));
        var template = docs.OfType<JsonObject>().Single(d => d["kind"]!.GetValue<string>() == "Deployment")["spec"]!["template"]!;
        Assert.Equal("true", template["metadata"]!["labels"]![SidecarInjector.InjectedLabel]!.GetValue<string>());
        Assert.Equal("echo", template["metadata"]!["labels"]!["app"]!.GetValue<string>());
    }

    private static readonly InjectOptions East = new() { Cluster = "east" };

    private static string Example() => File.ReadAllText(Path.Combine(Schema.CrdSchemaTests.FindRepoRoot(), "examples", "kubernetes", "echo.yaml"));
}
