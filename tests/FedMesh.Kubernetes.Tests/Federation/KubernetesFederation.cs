using System.Net;
using System.Text;
using FedMesh.Core.Discovery;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Kubernetes;
using FedMesh.Kubernetes.Tests.ApiServer;
using FedMesh.Kubernetes.Tests.Cli;
using FedMesh.MirrorController;
using FedMesh.MirrorController.Hosting;
using FedMesh.Tests.Shared;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Kubernetes.Tests.Federation;

/// <summary>
/// Two test API servers as Kubernetes clusters a and b of one federation, set up through the CLI
/// (<c>cluster add</c>, <c>install --apply</c>), each with its real mirror-controller running in this
/// process on the least-privilege token that install's RBAC grants the controller.
/// </summary>
internal sealed class KubernetesFederation : IAsyncDisposable
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    private readonly Dictionary<string, WebApplication> _controllers = [];
    private readonly List<IDisposable> _disposables = [];

    private KubernetesFederation(TempHome home, FakeApiServer a, FakeApiServer b)
    {
        Home = home;
        A = a;
        B = b;
    }

    public TempHome Home { get; }
    public FakeApiServer A { get; }
    public FakeApiServer B { get; }

    public static async Task<KubernetesFederation> StartAsync()
    {
        var federation = new KubernetesFederation(new TempHome(), await FakeApiServer.StartAsync(), await FakeApiServer.StartAsync());
        var home = federation.Home;
        home.WriteKubeconfig(FakeApiServer.AdminToken, ("a", federation.A.Url), ("b", federation.B.Url));
        foreach (var (name, server, ip) in new[] { ("a", federation.A, "10.0.0.1"), ("b", federation.B, "10.0.0.2") })
        {
            await CliRun.OkAsync("cluster", "add", name, "--context", name, "--kubeconfig", home.Kubeconfig, "--home", home.Path);
            await CliRun.OkAsync("install", "--cluster", name, "--apply", "--home", home.Path);
            // What the cloud's load balancer controller would do for the gateway Service.
            await server.Client().CoreV1.PatchNamespacedServiceAsync(
                new V1Patch("{\"status\":{\"loadBalancer\":{\"ingress\":[{\"ip\":\"" + ip + "\"}]}}}", V1Patch.PatchType.MergePatch),
                InstallDefaults.GatewayName, WellKnown.SystemNamespace);
        }
        return federation;
    }

    public Task<CliResult> CliAsync(params string[] args) => CliRun.RunAsync([.. args, "--home", Home.Path]);

    /// <summary>Starts <paramref name="cluster"/>'s controller as its pod would run, with the controller ServiceAccount's own token.</summary>
    public async Task StartControllerAsync(string cluster)
    {
        var server = Server(cluster);
        var admin = server.Client();
        var tokenSecret = await admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "controller-token", Annotations = new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = InstallDefaults.ControllerName } },
            Type = "kubernetes.io/service-account-token",
        }, WellKnown.SystemNamespace);
        var token = Encoding.UTF8.GetString(tokenSecret.Data["token"]);
        var client = server.Client(token);
        var options = new MirrorControllerOptions { Cluster = cluster, RepairInterval = TimeSpan.FromSeconds(2), WatchRetryMaxDelay = TimeSpan.FromSeconds(1) };
        var settings = new KubernetesControllerSettings(WellKnown.SystemNamespace, "fedmesh.local", null);
        var setup = KubernetesControllerHost.CreateSetup(client, options, settings, TimeProvider.System, IPAddress.Loopback, 0, 0);
        var app = ControllerApplication.Build(setup, _ => { });
        await app.StartAsync();
        _controllers.Add(cluster, app);
        _disposables.Add(client);
        _disposables.Add((IDisposable)setup.Store);
    }

    public FakeApiServer Server(string cluster) => cluster == "a" ? A : B;

    /// <summary>
    /// A discovery stream from <paramref name="cluster"/>'s running controller, opened as its gateway opens it (node kind
    /// gateway); the caller disposes it.
    /// </summary>
    public async Task<DiscoveryClient> GatewayDiscoveryAsync(string cluster)
    {
        var port = _controllers[cluster].Services.GetRequiredService<ListenEndpoints>().GrpcPort;
        var node = new Proto.Node { Id = $"{InstallDefaults.GatewayName}-test", Cluster = cluster, Kind = Proto.NodeKind.Gateway };
        var client = new DiscoveryClient($"http://127.0.0.1:{port}", node, NullLogger.Instance);
        client.Start();
        using var deadline = new CancellationTokenSource(Deadline);
        await client.WaitForFirstAsync(deadline.Token);
        return client;
    }

    /// <summary>Waits (bounded) for a snapshot that <paramref name="done"/> accepts and returns it.</summary>
    public static async Task<Proto.Snapshot> SnapshotAsync(DiscoveryClient discovery, Func<Proto.Snapshot, bool> done, string what) =>
        (await Eventually.ValueAsync(() => Task.FromResult(discovery.Current), s => s is not null && done(s), what, Deadline))!;

    /// <summary>An admin store of <paramref name="cluster"/>, for the test to look and to act as a user would with kubectl.</summary>
    public KubernetesClusterStore Store(string cluster)
    {
        var store = new KubernetesClusterStore(cluster, Server(cluster).Client(), new KubernetesStoreOptions(), ownsClient: true);
        _disposables.Add(store);
        return store;
    }

    public static async Task<Condition?> ReadyConditionAsync(IClusterStore store, string link) =>
        (await store.GetAsync<Link>(WellKnown.SystemNamespace, link))?.Status?.Conditions?.Find(c => c.Type == "Ready");

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _controllers.Values)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        foreach (var d in _disposables) d.Dispose();
        await A.DisposeAsync();
        await B.DisposeAsync();
        Home.Dispose();
    }
}
