using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using FedMesh.Core.Kubernetes;
using FedMesh.Kubernetes.Tests.Manifests;
using FedMesh.Linker;
using FedMesh.Linker.Commands;
using FedMesh.Linker.Kubernetes;
using FedMesh.MirrorController;
using FedMesh.MirrorController.Hosting;

namespace FedMesh.Kubernetes.Tests.Cli;

/// <summary><c>fedmesh cluster add</c>, <c>install</c> and <c>inject</c> run as a user runs them, output compared with golden files.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class InstallInjectCliTests
{
    private const string Cert = "-----BEGIN CERTIFICATE-----\nMIIBissuer\n-----END CERTIFICATE-----\n";
    private const string Key = "-----BEGIN PRIVATE KEY-----\nMIGHkey\n-----END PRIVATE KEY-----\n";
    private const string Anchor = "-----BEGIN CERTIFICATE-----\nMIIBanchor\n-----END CERTIFICATE-----\n";

    [Fact]
    public async Task Install_EastWithGatewayPort14143_PrintsTheGoldenManifests()
    {
        using var home = new TempHome();
        home.WriteKubeconfig("t", ("kind-east", "http://127.0.0.1:1"));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);
        var root = FedMeshCli.BuildRoot();
        root.Subcommands.Remove(root.Subcommands.Single(c => c.Name == "install"));
        root.Subcommands.Add(InstallCommands.BuildInstall((_, _) => new IssuerPem(Cert, Key, Anchor)));

        var result = await CliRun.RunAsync(root, "install", "--cluster", "east", "--gateway-port", "14143", "--home", home.Path);

        Assert.Equal(0, result.ExitCode);
        GoldenFile.AssertMatches("install-east.yaml", result.Out);
    }

    [Fact]
    public async Task Install_DefaultIssuer_IsSignedByTheFederationAnchorAndKeptAcrossInstalls()
    {
        using var home = new TempHome();
        home.WriteKubeconfig("t", ("kind-east", "http://127.0.0.1:1"));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);

        var first = IssuerSecret((await CliRun.OkAsync("install", "--cluster", "east", "--home", home.Path)).Out);
        var second = IssuerSecret((await CliRun.OkAsync("install", "--cluster", "east", "--home", home.Path)).Out);

        Assert.Equal(first.ToJsonString(), second.ToJsonString());
        using var anchor = X509Certificate2.CreateFromPem(Data(first, "ca.crt"));
        using var issuer = X509Certificate2.CreateFromPem(Data(first, "tls.crt"), Data(first, "tls.key"));
        Assert.True(issuer.HasPrivateKey);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(anchor);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        Assert.True(chain.Build(issuer), string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation)));
        Assert.Contains("FedMesh issuer east", issuer.Subject);
        Assert.Equal(File.ReadAllText(Path.Combine(home.Path, "anchor", "ca.crt")), Data(first, "ca.crt"));
    }

    [Fact]
    public async Task Install_GatewayBusyPoll_SetsTheGatewaysWindow_AndABadOneExitsTwoNamingIt()
    {
        using var home = new TempHome();
        home.WriteKubeconfig("t", ("kind-east", "http://127.0.0.1:1"));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);

        var manifests = ManifestYaml.Read((await CliRun.OkAsync("install", "--cluster", "east", "--gateway-busy-poll-us", "100", "--home", home.Path)).Out)
            .OfType<JsonObject>().ToList();
        var gateway = manifests.Single(d => d["kind"]!.GetValue<string>() == "Deployment" && d["metadata"]!["name"]!.GetValue<string>() == InstallDefaults.GatewayName);
        var env = gateway["spec"]!["template"]!["spec"]!["containers"]![0]!["env"]!.AsArray().Single()!;
        Assert.Equal(("FEDMESH_BUSY_POLL_US", "100"), (env["name"]!.GetValue<string>(), env["value"]!.GetValue<string>()));

        var bad = await CliRun.RunAsync(FedMeshCli.BuildRoot(), "install", "--cluster", "east", "--gateway-busy-poll-us", "5000", "--home", home.Path);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--gateway-busy-poll-us 5000 is not a busy-poll window: give whole microseconds from 0 (off) to 1000", bad.Error);
    }

    [Fact]
    public async Task Install_IssuerSecret_HoldsOnlyTheIssuerAndAnchorAndNoBootstrapTokenIsMade()
    {
        using var home = new TempHome();
        home.WriteKubeconfig("t", ("kind-east", "http://127.0.0.1:1"));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);

        var manifests = ManifestYaml.Read((await CliRun.OkAsync("install", "--cluster", "east", "--home", home.Path)).Out).OfType<JsonObject>().ToList();

        // On Kubernetes, callers of the Identity service present projected service-account tokens (TokenReview); nothing reads a bootstrap token.
        Assert.Equal(["tls.crt", "tls.key", "ca.crt"], IssuerSecret(ManifestYaml.Write(manifests))["data"]!.AsObject().Select(kv => kv.Key));
        var controller = manifests.Single(d => d["kind"]!.GetValue<string>() == "Deployment" && d["metadata"]!["name"]!.GetValue<string>() == InstallDefaults.ControllerName);
        Assert.Equal(["ca.crt", "ca.key", "anchor.crt"], controller["spec"]!["template"]!["spec"]!["volumes"]![0]!["secret"]!["items"]!.AsArray().Select(i => i!["path"]!.GetValue<string>()));
        Assert.False(File.Exists(new FedMesh.Core.Federation.FederationPaths(home.Path).BootstrapTokenFile("east")));
    }

    [Fact]
    public async Task Install_IssuerSecretMountedAsTheDeploymentSays_IsLoadedByTheKubernetesController()
    {
        using var home = new TempHome();
        home.WriteKubeconfig("t", ("kind-east", "http://127.0.0.1:1"));
        await CliRun.OkAsync("cluster", "add", "east", "--context", "kind-east", "--kubeconfig", home.Kubeconfig, "--home", home.Path);
        var manifests = ManifestYaml.Read((await CliRun.OkAsync("install", "--cluster", "east", "--home", home.Path)).Out).OfType<JsonObject>().ToList();
        var secret = manifests.Single(d => d["kind"]!.GetValue<string>() == "Secret");
        var controller = manifests.Single(d => d["kind"]!.GetValue<string>() == "Deployment" && d["metadata"]!["name"]!.GetValue<string>() == InstallDefaults.ControllerName);
        var mount = Path.Combine(home.Path, "mounted-issuer");
        Directory.CreateDirectory(mount);
        foreach (var item in controller["spec"]!["template"]!["spec"]!["volumes"]![0]!["secret"]!["items"]!.AsArray())
            File.WriteAllText(Path.Combine(mount, item!["path"]!.GetValue<string>()), Data(secret, item["key"]!.GetValue<string>()));
        using var client = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = "http://127.0.0.1:1" });

        var setup = KubernetesControllerHost.CreateSetup(client, new MirrorControllerOptions { Cluster = "east" },
            new KubernetesControllerSettings("fedmesh-system", "fedmesh.local", mount), TimeProvider.System, System.Net.IPAddress.Loopback, 0, 0);

        Assert.NotNull(setup.Issuer);
        Assert.Equal("east", setup.Issuer.Issuer.Cluster);
        Assert.IsType<FedMesh.MirrorController.Identity.TokenReviewAuthorizer>(setup.Issuer.Authorizer);
        setup.Issuer.Issuer.Dispose();
        ((IDisposable)setup.Store).Dispose();
    }

    [Fact]
    public async Task Install_LocalCluster_IsRefusedWithWhatToDo()
    {
        using var home = new TempHome();
        File.WriteAllText(Path.Combine(home.Path, "config.yaml"), "apiVersion: fedmesh.io/v1alpha1\nkind: Federation\nclusters:\n- name: east\n  type: local\n");

        var result = await CliRun.RunAsync("install", "--cluster", "east", "--home", home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cluster 'east' is a local cluster; install is for Kubernetes clusters", result.Error);
    }

    [Fact]
    public async Task ClusterAdd_UnknownContext_FailsAndWritesNothing()
    {
        using var home = new TempHome();
        home.WriteKubeconfig("t", ("kind-east", "http://127.0.0.1:1"));

        var result = await CliRun.RunAsync("cluster", "add", "east", "--context", "kind-nope", "--kubeconfig", home.Kubeconfig, "--home", home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot use context 'kind-nope'", result.Error);
        Assert.False(File.Exists(Path.Combine(home.Path, "config.yaml")));
    }

    [Fact]
    public async Task Inject_EchoExample_PrintsTheGoldenManifests()
    {
        using var home = new TempHome();
        var result = await CliRun.OkAsync("inject", "-f", Example(), "--cluster", "east", "--home", home.Path);
        GoldenFile.AssertMatches("inject-echo.yaml", result.Out);
    }

    [Fact]
    public async Task Inject_ItsOwnOutput_PrintsTheSameAgain()
    {
        using var home = new TempHome();
        var once = (await CliRun.OkAsync("inject", "-f", Example(), "--cluster", "east", "--home", home.Path)).Out;
        var file = Path.Combine(home.Path, "once.yaml");
        File.WriteAllText(file, once);

        var twice = (await CliRun.OkAsync("inject", "-f", file, "--cluster", "east", "--home", home.Path)).Out;

        Assert.Equal(once, twice);
    }

    [Fact]
    public async Task Inject_BrokenYaml_NamesLineAndColumn()
    {
        using var home = new TempHome();
        var file = Path.Combine(home.Path, "broken.yaml");
        File.WriteAllText(file, "kind: Deployment\nspec: [unclosed\n");

        var result = await CliRun.RunAsync("inject", "-f", file, "--cluster", "east", "--home", home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}:", result.Error);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Inject_WorkloadWithoutAnAppPort_IsRefusedNamingItAndPrintsNothing()
    {
        using var home = new TempHome();
        var file = Path.Combine(home.Path, "worker.yaml");
        File.WriteAllText(file, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: worker, namespace: shop}\n"
            + "spec:\n  template:\n    metadata: {labels: {app: worker}}\n    spec:\n      containers:\n      - {name: worker, image: example/worker}\n");

        var result = await CliRun.RunAsync("inject", "-f", file, "--cluster", "east", "--home", home.Path);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"{file}: Deployment shop/worker: cannot tell which port the app listens on: its container 'worker' declares no containerPort", result.Error);
        Assert.Contains($"set the annotation {SidecarInjector.AppPortAnnotation}: \"PORT\" on the pod template; nothing was written", result.Error);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Inject_FederationWithItsOwnTrustDomain_GivesTheSidecarThatTrustDomain()
    {
        using var home = new TempHome();
        File.WriteAllText(Path.Combine(home.Path, "config.yaml"), "apiVersion: fedmesh.io/v1alpha1\nkind: Federation\ntrustDomain: example.org\nclusters:\n- name: east\n  type: local\n");

        var result = await CliRun.OkAsync("inject", "-f", Example(), "--home", home.Path);

        var proxy = ManifestYaml.Read(result.Out).OfType<JsonObject>().Single(d => d["kind"]!.GetValue<string>() == "Deployment")["spec"]!["template"]!["spec"]!["containers"]!
            .AsArray().Single(c => c!["name"]!.GetValue<string>() == SidecarInjector.ProxyContainer)!;
        var args = proxy["args"]!.AsArray().Select(a => a!.GetValue<string>()).ToList();
        Assert.Equal("example.org", args[args.IndexOf("--TrustDomain") + 1]);
        Assert.Equal("east", args[args.IndexOf("--Cluster") + 1]);
    }

    private static JsonObject IssuerSecret(string yaml) =>
        ManifestYaml.Read(yaml).OfType<JsonObject>().Single(d => d["kind"]!.GetValue<string>() == "Secret" && d["metadata"]!["name"]!.GetValue<string>() == InstallDefaults.IssuerSecret);

    private static string Data(JsonObject secret, string key) => Encoding.UTF8.GetString(Convert.FromBase64String(secret["data"]![key]!.GetValue<string>()));

    private static string Example() => Path.Combine(Schema.CrdSchemaTests.FindRepoRoot(), "examples", "kubernetes", "echo.yaml");
}
