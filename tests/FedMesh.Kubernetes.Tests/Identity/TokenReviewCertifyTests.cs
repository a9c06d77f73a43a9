using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FedMesh.Core.Identity;
using FedMesh.Core.Kubernetes;
using FedMesh.Core.Resources;
using FedMesh.Kubernetes.Tests.ApiServer;
using FedMesh.Kubernetes.Tests.Cli;
using FedMesh.MirrorController;
using FedMesh.MirrorController.Hosting;
using Grpc.Core;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FedMesh.Kubernetes.Tests.Identity;

/// <summary>
/// The controller of an installed cluster (install's RBAC, its ServiceAccount's own token, the issuer Secret mounted
/// as the Deployment mounts it) certifies callers by TokenReview of their projected service-account tokens.
/// </summary>
public sealed class TokenReviewCertifyTests : IAsyncLifetime
{
    private const string Cluster = "east";
    private const string TrustDomain = "fedmesh.local";
    private readonly TempHome _home = new();
    private FakeApiServer _server = null!;
    private IKubernetes _controllerClient = null!;
    private ControllerSetup _setup = null!;
    private WebApplication _controller = null!;
    private string _address = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeApiServer.StartAsync();
        _home.WriteKubeconfig(FakeApiServer.AdminToken, (Cluster, _server.Url));
        await CliRun.OkAsync("cluster", "add", Cluster, "--context", Cluster, "--kubeconfig", _home.Kubeconfig, "--home", _home.Path);
        await CliRun.OkAsync("install", "--cluster", Cluster, "--apply", "--home", _home.Path);
        var admin = _server.Client();
        var issuer = await MountIssuerAsync(admin);
        var tokenSecret = await admin.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "controller-token", Annotations = new Dictionary<string, string> { ["kubernetes.io/service-account.name"] = InstallDefaults.ControllerName } },
            Type = "kubernetes.io/service-account-token",
        }, WellKnown.SystemNamespace);
        _controllerClient = _server.Client(Encoding.UTF8.GetString(tokenSecret.Data["token"]));
        _setup = KubernetesControllerHost.CreateSetup(_controllerClient, new MirrorControllerOptions { Cluster = Cluster },
            new KubernetesControllerSettings(WellKnown.SystemNamespace, TrustDomain, issuer), TimeProvider.System, IPAddress.Loopback, 0, 0);
        _controller = ControllerApplication.Build(_setup, _ => { });
        await _controller.StartAsync();
        _address = $"http://127.0.0.1:{_controller.Services.GetRequiredService<ListenEndpoints>().GrpcPort}";
    }

    [Fact]
    public async Task Certify_GatewayWithItsProjectedToken_GetsTheGatewayIdentity()
    {
        var id = SpiffeId.Create(TrustDomain, Cluster, WellKnown.SystemNamespace, InstallDefaults.GatewayServiceAccount);

        using var identity = await ObtainAsync(id, GatewayToken());

        Assert.Equal(id, SpiffeId.FromCertificate(identity.Certificate, out _));
        Assert.True(identity.Certificate.HasPrivateKey);
    }

    [Fact]
    public async Task Certify_IdentityOfAnotherServiceAccount_IsPermissionDenied()
    {
        var controllerId = SpiffeId.Create(TrustDomain, Cluster, WellKnown.SystemNamespace, "controller");

        var e = await Assert.ThrowsAsync<IdentityException>(() => ObtainAsync(controllerId, GatewayToken()));

        Assert.Equal(StatusCode.PermissionDenied, Assert.IsType<RpcException>(e.InnerException).StatusCode);
        Assert.Contains("service account fedmesh-system/gateway may only hold 'spiffe://fedmesh.local/cluster/east/ns/fedmesh-system/sa/gateway'", e.Message);
    }

    [Fact]
    public async Task Certify_SameServiceAccountNameInAnotherNamespace_IsPermissionDenied()
    {
        var token = _server.IssueProjectedToken("default", InstallDefaults.GatewayServiceAccount, InstallDefaults.TokenAudience, TimeSpan.FromHours(1));
        var id = SpiffeId.Create(TrustDomain, Cluster, WellKnown.SystemNamespace, InstallDefaults.GatewayServiceAccount);

        var e = await Assert.ThrowsAsync<IdentityException>(() => ObtainAsync(id, token));

        Assert.Equal(StatusCode.PermissionDenied, Assert.IsType<RpcException>(e.InnerException).StatusCode);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("expired")]
    [InlineData("api-audience")]
    public async Task Certify_TokenTheReviewRejects_IsUnauthenticated(string kind)
    {
        var token = kind switch
        {
            "bogus" => "not-a-token-the-server-issued",
            "expired" => _server.IssueProjectedToken(WellKnown.SystemNamespace, InstallDefaults.GatewayServiceAccount, InstallDefaults.TokenAudience, TimeSpan.FromSeconds(-1)),
            // The pod's ordinary API token is not for the fedmesh audience.
            _ => _server.IssueProjectedToken(WellKnown.SystemNamespace, InstallDefaults.GatewayServiceAccount, Authorizer.ApiAudience, TimeSpan.FromHours(1)),
        };
        var id = SpiffeId.Create(TrustDomain, Cluster, WellKnown.SystemNamespace, InstallDefaults.GatewayServiceAccount);

        var e = await Assert.ThrowsAsync<IdentityException>(() => ObtainAsync(id, token));

        Assert.Equal(StatusCode.Unauthenticated, Assert.IsType<RpcException>(e.InnerException).StatusCode);
    }

    [Fact]
    public async Task FedmeshToken_OnTheApiServer_IsUnauthorized()
    {
        using var client = _server.Client(GatewayToken());

        var e = await Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => client.CoreV1.ListNamespacedServiceAsync("default"));

        Assert.Equal(HttpStatusCode.Unauthorized, e.Response.StatusCode);
    }

    private string GatewayToken() =>
        _server.IssueProjectedToken(WellKnown.SystemNamespace, InstallDefaults.GatewayServiceAccount, InstallDefaults.TokenAudience, TimeSpan.FromHours(1));

    private async Task<WorkloadIdentity> ObtainAsync(SpiffeId id, string token)
    {
        var file = Path.Combine(_home.Path, $"token-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(file, token + "\n");
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await WorkloadIdentity.ObtainAsync(_address, id, CertifyToken.FromFile(file), TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, deadline.Token);
    }

    /// <summary>Writes the issuer Secret's items where the controller Deployment mounts them, as the kubelet would.</summary>
    private async Task<string> MountIssuerAsync(IKubernetes admin)
    {
        var secret = await admin.CoreV1.ReadNamespacedSecretAsync(InstallDefaults.IssuerSecret, WellKnown.SystemNamespace);
        var manifests = ManifestYaml.Read((await CliRun.OkAsync("install", "--cluster", Cluster, "--home", _home.Path)).Out).OfType<JsonObject>();
        var deployment = manifests.Single(d => d["kind"]!.GetValue<string>() == "Deployment" && d["metadata"]!["name"]!.GetValue<string>() == InstallDefaults.ControllerName);
        var mount = Directory.CreateDirectory(Path.Combine(_home.Path, "mounted-issuer")).FullName;
        foreach (var item in deployment["spec"]!["template"]!["spec"]!["volumes"]![0]!["secret"]!["items"]!.AsArray())
            await File.WriteAllBytesAsync(Path.Combine(mount, item!["path"]!.GetValue<string>()), secret.Data[item["key"]!.GetValue<string>()]);
        return mount;
    }

    public async Task DisposeAsync()
    {
        await _controller.StopAsync();
        await _controller.DisposeAsync();
        ((IDisposable)_setup.Store).Dispose();
        _setup.Issuer?.Issuer.Dispose();
        _controllerClient.Dispose();
        await _server.DisposeAsync();
        _home.Dispose();
    }
}
