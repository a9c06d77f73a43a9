using System.Net;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Local;
using FedMesh.Proxy.Tests.Support;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Registration;

/// <summary>
/// In the local federation the proxy registers its endpoint once the app answers, marks it not ready while the app stops
/// answering (and ready when it answers again), and removes it on shutdown.
/// </summary>
public sealed class EndpointRegistrationTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private string _storeDir = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _storeDir = Path.Combine(_mesh.Directory, "clusters", "east");
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    private static Task<HttpResponseMessage> ReadyAsync(HttpClient http, IPEndPoint admin) => http.GetAsync($"http://{admin}/ready");

    [Fact]
    public async Task Register_WhenAppAnswers_AppearsInStore_AndShutdownRemovesIt()
    {
        using (var seed = new LocalClusterStore("east", _storeDir))
        {
            // Another instance's entry stays; a stale entry of ours from a crashed run is replaced.
            await seed.ApplyAsync(new Endpoints
            {
                Metadata = new ObjectMeta { Name = "echo", Namespace = "default" },
                Spec = new EndpointsSpec
                {
                    Endpoints =
                    {
                        new EndpointEntry { Address = "127.0.0.1:9", Instance = "echo-east-1", Cluster = "east" },
                        new EndpointEntry { Address = "127.0.0.1:10", Instance = "echo-east-0", Cluster = "east" },
                    },
                },
            });
        }
        var app = await _mesh.StartAppAsync("echo-app");
        var options = _mesh.Options("echo", "echo-east-0", app, _storeDir);
        options.Zone = "zone-a";
        var proxy = await _mesh.StartProxyAsync(options);
        using var http = MeshFixture.DirectClient();

        await Eventually.ValueAsync(() => ReadyAsync(http, proxy.AdminEndpoint), r => r.StatusCode == HttpStatusCode.OK, "/ready");

        Assert.NotEmpty(Directory.GetFiles(_storeDir, "*", SearchOption.AllDirectories));
        using var store = new LocalClusterStore("east", _storeDir);
        var registered = await store.GetAsync<Endpoints>("default", "echo");
        Assert.NotNull(registered);
        Assert.Equal(2, registered.Spec.Endpoints.Count);
        var ours = Assert.Single(registered.Spec.Endpoints, e => e.Instance == "echo-east-0");
        Assert.Equal(proxy.InboundEndpoint.ToString(), ours.Address);
        Assert.Equal(proxy.Identity.Id.ToString(), ours.Identity);
        Assert.Equal("east", ours.Cluster);
        Assert.Equal("zone-a", ours.Zone);
        Assert.True(ours.Ready);
        Assert.Equal(1, ours.Weight);

        await proxy.StopAsync();

        var after = await store.GetAsync<Endpoints>("default", "echo");
        Assert.NotNull(after);
        var left = Assert.Single(after.Spec.Endpoints);
        Assert.Equal("echo-east-1", left.Instance);
    }

    [Fact]
    public async Task Ready_Before_AppAnswers_Is503WithReason_ThenBecomes200()
    {
        var port = LoopbackPort.Free();
        var appAddress = new Uri($"http://127.0.0.1:{port}");
        var proxy = await _mesh.StartProxyAsync(_mesh.Options("echo", "echo-east-0", appAddress, _storeDir));
        using var http = MeshFixture.DirectClient();

        using (var notReady = await ReadyAsync(http, proxy.AdminEndpoint))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            Assert.Equal($"not ready: waiting for the app to answer at {appAddress.ToString().TrimEnd('/')}\n", await notReady.Content.ReadAsStringAsync());
        }
        using (var live = await http.GetAsync($"http://{proxy.AdminEndpoint}/live"))
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        using (var store = new LocalClusterStore("east", _storeDir))
            Assert.Null(await store.GetAsync<Endpoints>("default", "echo"));

        await using var app = await StartAppAsync(port);

        await Eventually.ValueAsync(() => ReadyAsync(http, proxy.AdminEndpoint), r => r.StatusCode == HttpStatusCode.OK, "/ready after the app started");
    }

    [Fact]
    public async Task AppThatStopsAnswering_IsMarkedNotReadyInTheStore_AndReadyAgainWhenItAnswers()
    {
        var port = LoopbackPort.Free();
        var app = await StartAppAsync(port);
        var proxy = await _mesh.StartProxyAsync(_mesh.Options("echo", "echo-east-0", new Uri($"http://127.0.0.1:{port}"), _storeDir));
        using var http = MeshFixture.DirectClient();
        await Eventually.ValueAsync(() => ReadyAsync(http, proxy.AdminEndpoint), r => r.StatusCode == HttpStatusCode.OK, "/ready");
        using var store = new LocalClusterStore("east", _storeDir);
        Assert.True((await OursAsync(store)).Ready);

        await app.DisposeAsync(); // refused from now on: three probes in a row, a second apart
        await Eventually.ValueAsync(() => OursAsync(store), e => !e.Ready, "the endpoint marked not ready", TimeSpan.FromSeconds(15));

        await using var again = await StartAppAsync(port);
        await Eventually.ValueAsync(() => OursAsync(store), e => e.Ready, "the endpoint ready again", TimeSpan.FromSeconds(15));
    }

    private static async Task<EndpointEntry> OursAsync(LocalClusterStore store)
    {
        var registered = await store.GetAsync<Endpoints>("default", "echo");
        Assert.NotNull(registered);
        return Assert.Single(registered.Spec.Endpoints, e => e.Instance == "echo-east-0");
    }

    private static async Task<WebApplication> StartAppAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        var app = builder.Build();
        app.Run(c => c.Response.WriteAsync("app"));
        await app.StartAsync();
        return app;
    }
}
