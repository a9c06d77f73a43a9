using System.Net;
using System.Security.Cryptography;
using FedMesh.Core.Federation;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Core.Store.Local;
using FedMesh.MirrorController.Tests.Support;
using Grpc.Core;
using Grpc.Net.Client;
using Google.Protobuf;
using FedMesh.Tests.Shared;
using IdentityProto = FedMesh.Core.Identity.Protocol;

namespace FedMesh.MirrorController.Tests.Hosting;

public sealed class MirrorControllerHostTests : IDisposable
{
    private readonly string _home = Path.Combine(Path.GetTempPath(), "fedmesh-mc-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_home))
            Directory.Delete(_home, recursive: true);
    }

    [Fact]
    public async Task RunAsync_LocalFederation_ReadyMirrorsSignsAndStopsCleanly()
    {
        var paths = new FederationPaths(_home);
        var config = new FederationConfig();
        var east = new ClusterConfig { Name = "east", Controller = new ControllerPorts { GrpcPort = LoopbackPort.Free(), AdminPort = LoopbackPort.Free() } };
        var west = new ClusterConfig { Name = "west", Controller = new ControllerPorts { GrpcPort = LoopbackPort.Free(), AdminPort = LoopbackPort.Free() } };
        config.Clusters.AddRange([east, west]);
        FederationConfigFile.Save(config, paths.ConfigFile);
        using (var root = CertificateAuthority.CreateRoot(config.TrustDomain, TimeProvider.System))
        using (var issuer = root.CreateIntermediate("east"))
            issuer.Save(paths.IssuerDirectory("east"));
        await File.WriteAllTextAsync(paths.BootstrapTokenFile("east"), "s3cret\n");
        Directory.CreateDirectory(paths.StoreDirectory(east));
        Directory.CreateDirectory(paths.StoreDirectory(west));
        using var eastStore = new LocalClusterStore("east", paths.StoreDirectory(east));
        using var westStore = new LocalClusterStore("west", paths.StoreDirectory(west));
        await westStore.CreateAsync(Objects.Service("api"));
        await eastStore.CreateAsync(Objects.Link("west"));

        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var run = MirrorControllerHost.RunAsync(["--Home", _home, "--Cluster", "east", "--RepairInterval", "00:00:01"], stop.Token);

        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            Assert.False(run.IsCompleted, "the controller exited early");
            try { return (await http.GetAsync($"http://127.0.0.1:{east.Controller.AdminPort}/ready")).StatusCode == HttpStatusCode.OK; }
            catch (HttpRequestException) { return false; }
        }, "/ready to answer 200");
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://127.0.0.1:{east.Controller.AdminPort}/live")).StatusCode);

        // Mirroring works against real store directories.
        var endpoints = await Eventually.ValueAsync(() => eastStore.GetAsync<Endpoints>("default", "api-west"), e => e is not null, "endpoints api-west in the east store");
        Assert.Equal("west", endpoints!.Spec.Endpoints.Single().Cluster);
        await westStore.DeleteAsync<Service>("default", "api");
        await Eventually.ValueAsync(() => eastStore.GetAsync<Service>("default", "api-west"), s => s is null, "mirror api-west to go");

        // The Identity service signs this cluster's leaves for holders of the token, and only for them.
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{east.Controller.GrpcPort}");
        var identity = new IdentityProto.Identity.IdentityClient(channel);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var id = SpiffeId.Create(config.TrustDomain, "east", "default", "api");
        var request = new IdentityProto.CertifyRequest { CsrDer = ByteString.CopyFrom(SigningRequest(key, id)), Identity = id.ToString(), Token = "s3cret" };
        var response = await identity.CertifyAsync(request);
        Assert.False(response.LeafDer.IsEmpty);
        Assert.NotEmpty(response.ChainDer);
        request.Token = "wrong";
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await identity.CertifyAsync(request));
        Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);

        stop.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(15)));
    }

    [Theory]
    [InlineData(new string[0], "--Cluster is required")]
    [InlineData(new[] { "--Cluster", "east", "--Bogus", "1" }, "unknown option --Bogus")]
    [InlineData(new[] { "--Cluster", "east", "--RepairInterval", "soon" }, "--RepairInterval 'soon' is not valid")]
    [InlineData(new[] { "--Cluster", "east", "--MaxAttempts", "0" }, "--MaxAttempts must be at least 1")]
    public void Bind_BadArguments_ExplainEveryProblem(string[] args, string expected)
    {
        var errors = FedMesh.MirrorController.Hosting.CommandLineOptions.Bind(args, new MirrorControllerOptions());

        Assert.Contains(errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_UsageError_Returns2_MissingFederation_Returns1()
    {
        Assert.Equal(2, await MirrorControllerHost.RunAsync(["--Home", _home], CancellationToken.None));
        Assert.Equal(1, await MirrorControllerHost.RunAsync(["--Home", _home, "--Cluster", "east"], CancellationToken.None));
    }

    [Fact]
    public void Validate_EveryProblemAtOnce()
    {
        var options = new MirrorControllerOptions { Cluster = "", RepairInterval = TimeSpan.Zero, MaxAttempts = 0 };

        Assert.Equal(
            ["--Cluster is required: the name of the cluster this controller runs for",
             "--RepairInterval must be at least 00:00:00.1 (got 00:00:00)",
             "--MaxAttempts must be at least 1 (got 0)"],
            options.Validate());
    }

    private static byte[] SigningRequest(ECDsa key, SpiffeId id)
    {
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=api", key, HashAlgorithmName.SHA256);
        var san = new System.Security.Cryptography.X509Certificates.SubjectAlternativeNameBuilder();
        san.AddUri(new Uri(id.ToString()));
        request.CertificateExtensions.Add(san.Build(critical: true));
        return request.CreateSigningRequest();
    }
}
