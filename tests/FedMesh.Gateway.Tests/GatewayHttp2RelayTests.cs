using System.Net;
using FedMesh.Gateway.Tests.Fakes;

namespace FedMesh.Gateway.Tests;

/// <summary>
/// HTTP/2 through the gateway's own relay (core/Http2/Http2Relay): bodies both ways past every flow-control window,
/// trailers, many streams on one connection, the gateway's own answers, and an upstream that fails.
/// </summary>
public sealed class GatewayHttp2RelayTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    [Theory]
    [InlineData(3 * 1024 * 1024 + 7)] // past the relay's stream window (256 KiB) and the upstream's (1 MiB) both ways
    [InlineData(0)]
    public async Task ALargeBody_GoesUpWhole_AndALargeAnswerComesBackWhole_WithTheTrailer(int size)
    {
        using var client = fixture.Client(fixture.EastCaller);
        var body = TestBackend.Pattern(size);
        using var request = GatewayFixture.Request("echo.default", HttpVersion.Version20, "/count-body");
        request.Method = HttpMethod.Post;
        request.Content = new ByteArrayContent(body);
        using (var counted = await client.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, counted.StatusCode);
            Assert.Equal(new Version(2, 0), counted.Version);
            Assert.Equal($"{size} {body.Sum(b => (long)b)}", await counted.Content.ReadAsStringAsync());
            Assert.Equal("done", Assert.Single(counted.TrailingHeaders.GetValues("x-trailer")));
        }
        using var answer = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20, $"/bytes?n={size}"));
        var bytes = await answer.Content.ReadAsByteArrayAsync();
        Assert.True(body.AsSpan().SequenceEqual(bytes), $"the answer of {size} bytes came back as {bytes.Length} bytes, or changed");
    }

    [Fact]
    public async Task AnEcho_StreamsBothWaysAtOnce_WithTheTrailer()
    {
        using var client = fixture.Client(fixture.EastCaller);
        var body = TestBackend.Pattern(200 * 1024); // within what the client sends before it reads (it reads once its body is sent)
        using var request = GatewayFixture.Request("echo.default", HttpVersion.Version20, "/echo-body");
        request.Method = HttpMethod.Post;
        request.Content = new ByteArrayContent(body);
        using var response = await client.SendAsync(request);
        var echoed = await response.Content.ReadAsByteArrayAsync();
        Assert.True(body.AsSpan().SequenceEqual(echoed), "the echo differs from what was sent");
        Assert.Equal("done", Assert.Single(response.TrailingHeaders.GetValues("x-trailer")));
    }

    [Fact]
    public async Task FiftyStreamsAtOnce_OnOneConnection_EachGetsItsOwnAnswer()
    {
        using var client = fixture.Client(fixture.EastCaller);
        var sizes = Enumerable.Range(0, 50).Select(i => 1000 * i + 1).ToArray();
        var answers = await Task.WhenAll(sizes.Select(async n =>
        {
            using var response = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20, $"/bytes?n={n}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return await response.Content.ReadAsByteArrayAsync();
        }));
        for (var i = 0; i < sizes.Length; i++)
            Assert.True(TestBackend.Pattern(sizes[i]).AsSpan().SequenceEqual(answers[i]), $"answer {i} ({sizes[i]} bytes) differs");
    }

    [Fact]
    public async Task TheCallersIdentity_ReplacesWhatItSent_AndTheHostIsKept()
    {
        using var client = fixture.Client(fixture.EastCaller);
        using var request = GatewayFixture.Request("echo.default", HttpVersion.Version20);
        request.Headers.Add("x-fedmesh-caller", "spiffe://fedmesh.local/cluster/west/ns/default/sa/forged");
        using var response = await client.SendAsync(request);
        var seen = await GatewayFixture.ReadSeen(response);
        Assert.Equal(["spiffe://fedmesh.local/cluster/east/ns/default/sa/client"], seen!.Caller);
        Assert.Equal("HTTP/2", seen.Protocol);
        Assert.Equal("echo.default", seen.Host);
    }

    [Theory]
    [InlineData("secret.default", "/hello", HttpStatusCode.NotFound, "not-exported")]
    [InlineData("down.default", "/hello", HttpStatusCode.ServiceUnavailable, "no-endpoints")]
    [InlineData("echo.default", "/fedmesh/probe", HttpStatusCode.OK, null)]
    public async Task RequestsTheGatewayAnswersItself_GetItsAnswerOverHttp2(string host, string path, HttpStatusCode status, string? code)
    {
        using var client = fixture.Client(fixture.EastCaller);
        using var response = await client.SendAsync(GatewayFixture.Request(host, HttpVersion.Version20, path));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(new Version(2, 0), response.Version);
        Assert.Equal(code, response.Headers.TryGetValues("x-fedmesh-error", out var codes) ? Assert.Single(codes) : null);
        Assert.NotEmpty(await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/fedmesh/probe?check=1", true)]
    [InlineData("/fedmesh/%70robe", true)] // decoded as Kestrel's way decodes it (the HTTP/1.1 relay hands such paths there)
    [InlineData("/fedmesh/%70ro%62e?x=%2F", true)]
    [InlineData("/fedmesh%2Fprobe", false)] // an encoded '/' stays as it came: another path
    [InlineData("/fedmesh/probe%zz", false)]
    [InlineData("/fedmesh/probe%", false)]
    [InlineData("/fedmesh/probes", false)]
    public void TheProbesPath_IsKnownAsKestrelsWayKnowsIt(string path, bool probe) =>
        // HttpClient sends "%70" as "p" (System.Uri unescapes it), so the path is given to the relay's check directly.
        Assert.Equal(probe, FedMesh.Gateway.Forwarding.GatewayHandler.IsProbe(System.Text.Encoding.ASCII.GetBytes(path)));

    [Fact]
    public async Task AnUpstreamThatFailsBeforeAnswering_IsA502ThatSaysSo_AndTheConnectionGoesOn()
    {
        using var client = fixture.Client(fixture.EastCaller);
        using (var failed = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20, "/abort")))
        {
            Assert.Equal(HttpStatusCode.BadGateway, failed.StatusCode);
            Assert.Equal("upstream-unavailable", Assert.Single(failed.Headers.GetValues("x-fedmesh-error")));
            Assert.Contains("failed", await failed.Content.ReadAsStringAsync());
        }
        using var next = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task ACallerThatGivesUp_ResetsOnlyItsStream()
    {
        using var client = fixture.Client(fixture.EastCaller);
        using (var abandon = new CancellationTokenSource())
        {
            using var request = GatewayFixture.Request("echo.default", HttpVersion.Version20, "/count-body");
            request.Method = HttpMethod.Post;
            var content = new NeverEndingContent(); // /count-body answers only at the body's end, which never comes
            request.Content = content;
            var sending = client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, abandon.Token);
            await content.Started.WaitAsync(GatewayFixture.Patience);
            await abandon.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending);
        }
        using var next = await client.SendAsync(GatewayFixture.Request("echo.default", HttpVersion.Version20));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    /// <summary>A request body that sends a first piece, then waits until the request is cancelled.</summary>
    private sealed class NeverEndingContent : HttpContent
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await stream.WriteAsync(new byte[1024], cancellationToken);
            await stream.FlushAsync(cancellationToken);
            _started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
