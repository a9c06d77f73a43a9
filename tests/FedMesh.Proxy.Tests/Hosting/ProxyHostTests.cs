using System.Net;
using FedMesh.Core.Resources;
using FedMesh.Core.Store.Local;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Hosting;

/// <summary>The entry point the CLI calls: command-line options in, exit code out.</summary>
public sealed class ProxyHostTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;

    public async Task InitializeAsync() => _mesh = await MeshFixture.StartAsync();

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task RunAsync_CommandLine_BecomesReady_AndCancellationDeregistersAndReturns0()
    {
        var app = await _mesh.StartAppAsync("echo-app");
        var store = Path.Combine(_mesh.Directory, "store-east");
        var (outbound, inbound, admin) = (LoopbackPort.Free(), LoopbackPort.Free(), LoopbackPort.Free());
        string[] args =
        [
            "--Cluster", "east", "--TrustDomain", "fedmesh.local", "--Namespace", "default", "--Service", "echo",
            "--Instance", "echo-east-0", "--Outbound", $"127.0.0.1:{outbound}", "--Inbound", $"127.0.0.1:{inbound}",
            "--AdminListen", $"127.0.0.1:{admin}", "--App", app.ToString(), "--Controller", _mesh.Controller.ToString(),
            "--TokenFile", _mesh.TokenFile, "--Store", store,
        ];
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var run = ProxyHost.RunAsync(args, stop.Token);
        using var http = MeshFixture.DirectClient();

        // Start-up obtains a certificate from the controller; on a machine busy with the other test assemblies that
        // took over 10 s once in CI, and once more than 30 s (cause unknown: the reason /ready gave was not recorded
        // then), so this wait allows 60 s (a deadline, not a speed check); a timeout reports the step that never ended.
        // A proxy that stops meanwhile (a port taken between FreePort and its bind) fails the test at once, with its exit code.
        var ready = Eventually.ValueAsync(async () =>
            {
                using var answer = await http.GetAsync($"http://127.0.0.1:{admin}/ready");
                return (answer.StatusCode, Reason: (await answer.Content.ReadAsStringAsync()).Trim());
            }, r => r.StatusCode == HttpStatusCode.OK, "/ready", TimeSpan.FromSeconds(60));
        if (await Task.WhenAny(ready, run) == run)
            Assert.Fail($"the proxy stopped with exit code {await run} before it was ready");
        await ready;
        using var localStore = new LocalClusterStore("east", store);
        var registered = await localStore.GetAsync<Endpoints>("default", "echo");
        Assert.Equal($"127.0.0.1:{inbound}", Assert.Single(registered!.Spec.Endpoints).Address);

        // The outbound listener answers (no route for it yet: the test controller's snapshot is empty).
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{outbound}/");
        request.Headers.Host = "nothing";
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);

        stop.Cancel();
        Assert.Equal(0, await run.WaitAsync(TimeSpan.FromSeconds(15)));
        Assert.Empty((await localStore.GetAsync<Endpoints>("default", "echo"))!.Spec.Endpoints);
    }

    [Fact]
    public async Task RunAsync_RefusedToken_Returns1()
    {
        var token = Path.Combine(_mesh.Directory, "wrong-token");
        await File.WriteAllTextAsync(token, "not-the-token");
        string[] args =
        [
            "--Cluster", "east", "--Service", "echo", "--Instance", "echo-east-0", "--Outbound", "127.0.0.1:0",
            "--Inbound", "127.0.0.1:0", "--AdminListen", "127.0.0.1:0", "--App", "http://127.0.0.1:1",
            "--Controller", _mesh.Controller.ToString(), "--TokenFile", token,
        ];

        Assert.Equal(1, await ProxyHost.RunAsync(args, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(15)));
    }
}
