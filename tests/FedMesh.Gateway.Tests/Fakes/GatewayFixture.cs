using System.Net;
using System.Net.Http.Json;
using System.Net.Security;
using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Identity;
using FedMesh.Gateway.Configuration;
using FedMesh.Gateway.Hosting;
using FedMesh.Tests.Shared;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.Gateway.Tests.Fakes;

/// <summary>
/// Cluster west with its controller (real IdentityService, test discovery), one workload backend and its gateway,
/// plus caller identities from linked cluster east, unlinked cluster north and a foreign trust anchor.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    public const string TrustDomain = "fedmesh.local";
    public const string Token = "west-bootstrap-token";
    public static readonly string EchoIdentity = new SpiffeId(TrustDomain, "west", "default", "echo").ToString();
    public static readonly string GatewayIdentity = new SpiffeId(TrustDomain, "west", "fedmesh-system", "gateway").ToString();

    /// <summary>How long a test waits for the gateway to apply a change (<see cref="Eventually"/>).</summary>
    internal static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private CertificateAuthority _root = null!;
    private CertificateAuthority _west = null!;
    private CertificateAuthority _east = null!;
    private CertificateAuthority _north = null!;
    private CertificateAuthority _foreignRoot = null!;
    private WorkloadIdentity _echo = null!;
    private readonly List<IDisposable> _owned = [];

    internal TestController Controller { get; private set; } = null!;
    internal TestBackend Backend { get; private set; } = null!;

    /// <summary>Serves service raw.default: records requests as bytes and answers with scripted bytes.</summary>
    internal RawBackend Raw { get; private set; } = null!;
    internal GatewayRuntime Gateway { get; private set; } = null!;
    internal WorkloadIdentity EastCaller { get; private set; } = null!;
    internal WorkloadIdentity NorthCaller { get; private set; } = null!;
    internal WorkloadIdentity ForeignCaller { get; private set; } = null!;
    internal CertificateAuthority EastIssuer => _east;
    internal CertificateAuthority NorthIssuer => _north;
    internal CertificateAuthority ForeignIssuer => _foreignRoot;

    /// <summary>Whether the gateway is published a snapshot as soon as it starts.</summary>
    internal bool PublishAtStart { get; init; } = true;

    public async Task InitializeAsync()
    {
        _root = CertificateAuthority.CreateRoot(TrustDomain, TimeProvider.System);
        _west = _root.CreateIntermediate("west");
        _east = _root.CreateIntermediate("east");
        _north = _root.CreateIntermediate("north");
        _foreignRoot = CertificateAuthority.CreateRoot(TrustDomain, TimeProvider.System);
        var hour = TimeSpan.FromHours(1);
        _echo = WorkloadIdentity.FromIssuer(_west, SpiffeId.Parse(EchoIdentity), hour);
        EastCaller = WorkloadIdentity.FromIssuer(_east, new SpiffeId(TrustDomain, "east", "default", "client"), hour);
        NorthCaller = WorkloadIdentity.FromIssuer(_north, new SpiffeId(TrustDomain, "north", "default", "client"), hour);
        ForeignCaller = WorkloadIdentity.FromIssuer(_foreignRoot, new SpiffeId(TrustDomain, "east", "default", "client"), hour);
        _owned.AddRange([_echo, EastCaller, NorthCaller, ForeignCaller, _west, _east, _north, _foreignRoot, _root]);

        Controller = await TestController.StartAsync(_west, "west", Token);
        Backend = await TestBackend.StartAsync(_echo);
        Raw = new RawBackend(_echo.ServerOptions());
        if (PublishAtStart)
        {
            Controller.Discovery.Publish(Snapshot("1", linked: ["east"]));
        }
        Gateway = await GatewayRuntime.StartAsync(Options(), Token, NullLoggerFactory.Instance, TimeProvider.System, CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(30));
        if (PublishAtStart)
        {
            await Eventually.TrueAsync(async () => await AdminStatusAsync("/ready") == HttpStatusCode.OK, "the gateway to become ready", Patience);
        }
    }

    internal GatewayOptions Options() => new()
    {
        Cluster = "west",
        TrustDomain = TrustDomain,
        Listen = "127.0.0.1:0",
        AdminListen = "127.0.0.1:0",
        Controller = Controller.Address,
        TokenFile = "", // the runtime is handed the token itself
    };

    /// <summary>West's snapshot: echo exported, secret not exported, a mirror of east's echo, and an exported service with no healthy endpoint.</summary>
    internal Snapshot Snapshot(string version, params string[] linked)
    {
        var snapshot = new Snapshot { Version = version, Cluster = "west", TrustDomain = TrustDomain };
        snapshot.LinkedClusters.Add(linked);
        snapshot.Services.Add(Service("echo", exported: true, healthy: true));
        snapshot.Services.Add(Service("secret", exported: false, healthy: true));
        var mirror = Service("echo-east", exported: true, healthy: true);
        mirror.MirrorOf = "echo";
        mirror.MirrorCluster = "east";
        snapshot.Services.Add(mirror);
        snapshot.Services.Add(Service("down", exported: true, healthy: false));
        snapshot.Services.Add(Service("raw", exported: true, healthy: true, Raw.Address));
        return snapshot;
    }

    private Service Service(string name, bool exported, bool healthy, string? address = null)
    {
        var service = new Service { Name = name, Namespace = "default", Exported = exported };
        service.Endpoints.Add(new Endpoint { Address = address ?? Backend.Address, Identity = EchoIdentity, Cluster = "west", Healthy = healthy, Weight = 1 });
        return service;
    }

    /// <summary>A client of the gateway presenting <paramref name="identity"/> (none when null) and checking the gateway's identity.</summary>
    internal HttpClient Client(WorkloadIdentity? identity, bool trustAnyServer = false)
    {
        var ssl = identity?.ClientOptions(GatewayIdentity) ?? new SslClientAuthenticationOptions();
        if (identity is null || trustAnyServer)
        {
            ssl.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        var handler = new SocketsHttpHandler { SslOptions = ssl, UseProxy = false };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{Gateway.ListenEndpoint.Port}") };
    }

    /// <summary>A raw HTTP/1.1 connection to the gateway's mTLS listener as <paramref name="identity"/>.</summary>
    internal Task<RawHttp> RawClient(WorkloadIdentity identity) =>
        RawHttp.ConnectTlsAsync(new IPEndPoint(IPAddress.Loopback, Gateway.ListenEndpoint.Port), identity.ClientOptions(GatewayIdentity));

    internal static HttpRequestMessage Request(string host, Version version, string path = "/hello")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        request.Headers.Host = host;
        return request;
    }

    internal async Task<HttpStatusCode> AdminStatusAsync(string path)
    {
        using var admin = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Gateway.AdminEndpoint.Port}") };
        using var response = await admin.GetAsync(path);
        return response.StatusCode;
    }

    internal static Task<BackendSeen?> ReadSeen(HttpResponseMessage response) => response.Content.ReadFromJsonAsync<BackendSeen>();

    public async Task DisposeAsync()
    {
        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }
        if (Backend is not null)
        {
            await Backend.DisposeAsync();
        }
        if (Raw is not null)
        {
            await Raw.DisposeAsync();
        }
        if (Controller is not null)
        {
            await Controller.DisposeAsync();
        }
        foreach (var owned in _owned)
        {
            owned.Dispose();
        }
    }
}
