using System.Net;
using System.Net.Http.Headers;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FedMesh.Proxy.Tests.Forwarding;

/// <summary>
/// A gRPC call through the mesh with no change to the app: h2c (HTTP/2 with prior knowledge) to the caller's
/// outbound port, HTTP/2 over mTLS to the peer's inbound, h2c to a gRPC-only app, and the grpc-status trailer back.
/// </summary>
public sealed class GrpcThroughMeshTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _client = null!;
    private ProxyRuntime _server = null!;
    private WebApplication? _app;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _client = await _mesh.StartProxyAsync(_mesh.Options("client", "client-east-0", await _mesh.StartAppAsync("client-app")));
        var (app, address) = await Servers.StartAsync(HttpProtocols.Http2, null, null, a => ((IApplicationBuilder)a).Run(async context =>
        {
            var received = new MemoryStream();
            await context.Request.Body.CopyToAsync(received);
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["x-app-saw"] = $"{context.Request.Protocol} {context.Request.ContentType} {received.Length}";
            await context.Response.Body.WriteAsync(received.ToArray()); // echo the message back
            context.Response.AppendTrailer("grpc-status", "0");
            context.Response.AppendTrailer("grpc-message", "echoed");
        }));
        _app = app;
        _server = await _mesh.StartProxyAsync(_mesh.Options("greeter", "greeter-east-0", address));
        _mesh.Discovery.Push(Snapshots.Of(Snapshots.Local("greeter",
            Snapshots.Endpoint(_server.InboundEndpoint.ToString(), _server.Identity.Id.ToString(), instance: "greeter-east-0"))));
        await Eventually.ValueAsync(() => Task.FromResult(_client.Routing.Current.Routes.Count), n => n > 0, "the routing table to fill");
    }

    public async Task DisposeAsync()
    {
        await _mesh.DisposeAsync();
        if (_app is not null)
            await _app.DisposeAsync();
    }

    [Fact]
    public async Task H2cCall_ToOutboundPort_ReachesGrpcApp_AndTrailersComeBack()
    {
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        // A gRPC message: 1 byte compressed flag, 4 bytes length, then the payload.
        var message = new byte[] { 0, 0, 0, 0, 5, 1, 2, 3, 4, 5 };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://{_client.OutboundEndpoint}/greet.Greeter/SayHello")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(message),
        };
        request.Headers.Host = "greeter";
        request.Headers.TryAddWithoutValidation("te", "trailers");
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2 application/grpc 10", response.Headers.GetValues("x-app-saw").Single());
        Assert.Equal(message, body);
        Assert.Equal("0", response.TrailingHeaders.GetValues("grpc-status").Single());
        Assert.Equal("echoed", response.TrailingHeaders.GetValues("grpc-message").Single());
    }
}
