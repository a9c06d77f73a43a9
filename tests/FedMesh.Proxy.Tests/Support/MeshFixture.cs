using System.Net;
using System.Net.Security;
using FedMesh.Core.Identity;
using FedMesh.Core.Store;
using FedMesh.Proxy.Configuration;
using FedMesh.Proxy.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy.Tests.Support;

/// <summary>
/// A cluster "east" in one process: a controller (Identity + test Discovery over h2c), and helpers
/// to start proxies, plain apps and an mTLS gateway, each on 127.0.0.1 port 0.
/// </summary>
internal sealed class MeshFixture : IAsyncDisposable
{
    public const string Token = "test-bootstrap-token";
    private readonly List<IAsyncDisposable> _owned = new();
    private readonly List<IDisposable> _ownedSync = new();

    private MeshFixture(string directory) => Directory = directory;

    public TestPki Pki { get; } = new();
    public TestDiscovery Discovery { get; } = new();
    public TestLogs Logs { get; } = new();
    public string Directory { get; }
    public Uri Controller { get; private set; } = null!;
    public string TokenFile => Path.Combine(Directory, "bootstrap-token");

    public static async Task<MeshFixture> StartAsync()
    {
        var dir = Path.Combine(Path.GetTempPath(), "fedmesh-proxy-tests-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(dir);
        var mesh = new MeshFixture(dir);
        await File.WriteAllTextAsync(mesh.TokenFile, Token + "\n");
        mesh.Discovery.Push(Snapshots.Of());
        var (app, address) = await Servers.StartAsync(HttpProtocols.Http2, null, services =>
        {
            services.AddIdentityService(mesh.Pki.East, "east", TestPki.TrustDomain, Token);
            services.AddSingleton(mesh.Discovery);
        }, app =>
        {
            app.MapGrpcService<IdentityService>();
            app.MapGrpcService<TestDiscovery>();
        });
        mesh._owned.Add(app);
        mesh.Controller = address;
        return mesh;
    }

    public ProxyOptions Options(string service, string instance, Uri app, string? store = null) => new()
    {
        Cluster = "east",
        TrustDomain = TestPki.TrustDomain,
        Namespace = "default",
        Service = service,
        Instance = instance,
        Outbound = "127.0.0.1:0",
        Inbound = "127.0.0.1:0",
        AdminListen = "127.0.0.1:0",
        App = app.ToString().TrimEnd('/'),
        Controller = Controller.ToString().TrimEnd('/'),
        TokenFile = TokenFile,
        Store = store,
    };

    public async Task<ProxyRuntime> StartProxyAsync(ProxyOptions options, Func<ProxyOptions, IClusterStore>? store = null)
    {
        Assert.Empty(ProxyOptionsValidator.Validate(options));
        var runtime = new ProxyRuntime(options, Logs.CreateFactory(), TimeProvider.System, store);
        _owned.Add(runtime);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await runtime.StartAsync(timeout.Token);
        return runtime;
    }

    public async Task<Uri> StartAppAsync(string name)
    {
        var (app, address) = await Servers.StartAppAsync(name);
        _owned.Add(app);
        return address;
    }

    /// <summary>An mTLS gateway presenting <paramref name="id"/>; answers with what it saw (protocol, Host, caller).</summary>
    public async Task<string> StartGatewayAsync(string name, CertificateAuthority issuer, SpiffeId id)
    {
        var identity = Pki.Issue(issuer, id);
        _ownedSync.Add(identity);
        var (app, address) = await Servers.StartAsync(HttpProtocols.Http1AndHttp2, listen => listen.UseHttps(new TlsHandshakeCallbackOptions
        {
            OnConnection = _ =>
            {
                var options = identity.ServerOptions();
                options.ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11];
                return ValueTask.FromResult(options);
            },
        }), null, app => app.Run(context =>
        {
            var peer = context.Connection.ClientCertificate is { } cert ? SpiffeId.FromCertificate(cert, out _)?.ToString() : null;
            context.Request.Headers["x-fedmesh-caller"] = peer ?? "";
            return Servers.Describe(context, name);
        }));
        _owned.Add(app);
        return $"127.0.0.1:{address.Port}";
    }

    /// <summary>A plain client pointing at a proxy's outbound listener as its HTTP proxy.</summary>
    public static HttpClient ForwardProxyClient(IPEndPoint outbound) => new(new SocketsHttpHandler
    {
        Proxy = new WebProxy($"http://{outbound}"),
        UseProxy = true,
        AllowAutoRedirect = false,
    })
    { Timeout = TimeSpan.FromSeconds(15) };

    /// <summary>A plain client sending straight to a proxy's outbound listener (Host header routing).</summary>
    public static HttpClient DirectClient() => new(new SocketsHttpHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(15) };

    public async ValueTask DisposeAsync()
    {
        for (var i = _owned.Count - 1; i >= 0; i--)
            await _owned[i].DisposeAsync();
        foreach (var d in _ownedSync)
            d.Dispose();
        Pki.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
