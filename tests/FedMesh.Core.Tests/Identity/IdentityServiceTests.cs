using System.Net;
using System.Security.Cryptography;
using FedMesh.Core.Identity;
using FedMesh.Core.Identity.Protocol;
using FedMesh.Tests.Shared;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Tests.Identity;

public sealed class IdentityServiceTests : IAsyncLifetime
{
    private const string Token = "bootstrap-secret";
    private readonly ManualTimeProvider _time = new(TestPki.Start);
    private CertificateAuthority _root = null!;
    private CertificateAuthority _issuer = null!;
    private WebApplication _app = null!;
    private string _address = null!;

    public async Task InitializeAsync()
    {
        _root = CertificateAuthority.CreateRoot(TestPki.TrustDomain, _time);
        _issuer = _root.CreateIntermediate("west");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddIdentityService(_issuer, "west", TestPki.TrustDomain, Token, TimeSpan.FromHours(1));
        _app = builder.Build();
        _app.MapGrpcService<IdentityService>();
        await _app.StartAsync();
        _address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
    }

    [Fact]
    public async Task ObtainAsync_GoodToken_GetsLeafWithKeyChainAndAnchors()
    {
        using var identity = await Obtain(TestPki.Id());

        Assert.Equal(TestPki.Id(), identity.Id);
        Assert.True(identity.Certificate.HasPrivateKey);
        Assert.Equal(TestPki.Id(), SpiffeId.FromCertificate(identity.Certificate, out _));
        Assert.Equal(_issuer.Certificate.Thumbprint, Assert.Single(identity.Chain).Thumbprint);
        Assert.Equal(_root.Certificate.Thumbprint, Assert.Single(identity.Anchors).Thumbprint);
        Assert.Equal(TestPki.Start.AddHours(1), identity.NotAfter);
        Assert.Equal(TestPki.Start.AddMinutes(42), identity.RenewAt);
    }

    [Fact]
    public async Task ObtainAsync_WrongToken_IsRefusedAtOnce()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Obtain(TestPki.Id(), token: "guess"));

        Assert.Contains("bootstrap token", e.Message);
        Assert.Contains("PermissionDenied", e.Message);
    }

    [Fact]
    public async Task ObtainAsync_IdentityOfAnotherCluster_IsRefused()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Obtain(TestPki.Id(cluster: "east")));

        Assert.Contains("issues identities of cluster 'west' in trust domain 'fedmesh.local' only", e.Message);
        Assert.Contains("PermissionDenied", e.Message);
    }

    [Fact]
    public async Task ObtainAsync_IdentityOfAnotherTrustDomain_IsRefused()
    {
        var e = await Assert.ThrowsAsync<IdentityException>(() => Obtain(new SpiffeId("other.org", "west", "default", "echo")));

        Assert.Contains("PermissionDenied", e.Message);
    }

    [Fact]
    public async Task Certify_CsrForAnotherIdentity_IsInvalidArgument()
    {
        using var channel = GrpcChannel.ForAddress(_address);
        var client = new Core.Identity.Protocol.Identity.IdentityClient(channel);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertifyRequest
        {
            CsrDer = ByteString.CopyFrom(TestPki.Csr(key, TestPki.Id(sa: "admin").ToString())),
            Identity = TestPki.Id().ToString(),
            Token = Token,
        };

        var e = await Assert.ThrowsAsync<RpcException>(() => client.CertifyAsync(request).ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
        Assert.Contains("the CSR names", e.Status.Detail);
        request.CsrDer = ByteString.CopyFromUtf8("not a csr");
        e = await Assert.ThrowsAsync<RpcException>(() => client.CertifyAsync(request).ResponseAsync);
        Assert.Equal(StatusCode.InvalidArgument, e.StatusCode);
    }

    [Fact]
    public async Task Renewal_At70PercentOfLifetime_SwapsCertificate()
    {
        using var identity = await Obtain(TestPki.Id());
        var first = identity.Certificate;
        var renewed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        identity.Renewed += _ => renewed.TrySetResult();
        await Eventually.TrueAsync(() => _time.PendingTimers > 0, "the renewal timer to be scheduled");

        _time.Advance(TimeSpan.FromMinutes(41));
        Assert.Same(first, identity.Certificate);
        _time.Advance(TimeSpan.FromMinutes(1));
        await renewed.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.NotSame(first, identity.Certificate);
        Assert.NotEqual(first.SerialNumber, identity.Certificate.SerialNumber);
        Assert.Equal(TestPki.Start.AddMinutes(42).AddHours(1), identity.NotAfter);
        Assert.Equal(TestPki.Id(), SpiffeId.FromCertificate(identity.Certificate, out _));
    }

    [Fact]
    public async Task CertifyAsync_TokenFileRewritten_PresentsTheNewToken()
    {
        // A projected service-account token is rotated in place; renewals must present the file's current content.
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, "rotated-away\n");
            using var certifier = new IdentityCertifier(_address, TestPki.Id(), CertifyToken.FromFile(file), _time);
            await Assert.ThrowsAsync<IdentityException>(() => certifier.CertifyAsync(CancellationToken.None));

            await File.WriteAllTextAsync(file, Token + "\n");
            var material = await certifier.CertifyAsync(CancellationToken.None);

            Assert.Equal(TestPki.Id(), SpiffeId.FromCertificate(material.Leaf, out _));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ObtainAsync_EmptyTokenFile_IsRefusedAtOnceNamingTheFile()
    {
        var file = Path.GetTempFileName();
        try
        {
            var e = await Assert.ThrowsAsync<IdentityException>(() => WorkloadIdentity.ObtainAsync(_address, TestPki.Id(),
                CertifyToken.FromFile(file), _time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, CancellationToken.None)
                .WaitAsync(TimeSpan.FromSeconds(20)));

            Assert.Contains($"the token file '{file}' is empty", e.Message);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task ObtainAsync_CancelledWhileTheCallWaits_EndsAsACancellation()
    {
        // A controller that accepts the connection and never answers: the cancellation comes while the call waits, which
        // gRPC reports as a Cancelled status (this race made ObtainAsync_ControllerDown_RetriesUntilCancelled flaky).
        using var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var address = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(500));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => WorkloadIdentity.ObtainAsync(
            address, TestPki.Id(), Token, TimeProvider.System, cts.Token));
    }

    [Fact]
    public async Task ObtainAsync_ControllerDown_RetriesUntilCancelled()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(800));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => WorkloadIdentity.ObtainAsync(
            "http://127.0.0.1:1", TestPki.Id(), Token, TimeProvider.System, cts.Token));
    }

    private Task<WorkloadIdentity> Obtain(SpiffeId id, string token = Token) =>
        WorkloadIdentity.ObtainAsync(_address, id, token, _time, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(20));

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        _issuer.Dispose();
        _root.Dispose();
    }
}
