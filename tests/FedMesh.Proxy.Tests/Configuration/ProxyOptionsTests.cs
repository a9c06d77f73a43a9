using FedMesh.Proxy.Configuration;

namespace FedMesh.Proxy.Tests.Configuration;

public sealed class ProxyOptionsTests
{
    [Fact]
    public void Bind_FullCommandLine_SetsEveryOption()
    {
        var token = Path.GetTempFileName();
        try
        {
            var options = ProxyOptionsBinder.Bind(
            [
                "--Cluster", "east", "--TrustDomain", "fedmesh.local", "--Namespace", "shop", "--Service", "echo",
                "--Instance", "echo-east-0", "--Zone", "z1", "--Outbound", "127.0.0.1:7101", "--Inbound", "127.0.0.1:7102",
                "--AdminListen", "127.0.0.1:7103", "--App", "http://127.0.0.1:7100", "--Controller", "http://127.0.0.1:7000",
                "--TokenFile", token, "--Store", "/tmp/store-east",
            ], out var errors);

            Assert.Empty(errors);
            Assert.Equal("shop", options.Namespace);
            Assert.Equal("echo", options.EffectiveServiceAccount);
            Assert.Equal("z1", options.Zone);
            Assert.Equal("127.0.0.1:7102", options.Inbound);
            Assert.Equal("/tmp/store-east", options.Store);
        }
        finally
        {
            File.Delete(token);
        }
    }

    [Fact]
    public void Bind_BadCommandLine_ListsEveryProblemAtOnce()
    {
        ProxyOptionsBinder.Bind(
        [
            "--Cluster", "East", "--Instance", "echo-east-0", "--Outbound", "7101", "--Inbound", "127.0.0.1:7102",
            "--AdminListen", "127.0.0.1:7103", "--App", "ftp://x", "--Controller", "http://127.0.0.1:7000",
            "--TokenFile", "/nonexistent/token", "--Colour", "blue", "--AppProtocol", "grpc",
        ], out var errors);

        Assert.Equal(
        [
            "unknown option --Colour; known options: --Cluster, --TrustDomain, --Namespace, --Service, --Instance, --ServiceAccount, --Zone, --Outbound, --Inbound, --AdminListen, --App, --AppProtocol, --Controller, --TokenFile, --Store.",
            "--Cluster 'East' may only hold lowercase letters, digits, '-' and '.'.",
            "--Service is required.",
            "--Outbound '7101' is not an ip:port listen address (e.g. 127.0.0.1:7101).",
            "--App 'ftp://x' is not an absolute http:// address.",
            "--AppProtocol 'grpc' is not one of auto, http1, http2.",
            "--TokenFile '/nonexistent/token' does not exist.",
        ], errors);
    }

    [Fact]
    public async Task RunAsync_InvalidOptions_Returns2()
        => Assert.Equal(2, await ProxyHost.RunAsync(["--Cluster", "east"], CancellationToken.None));
}
