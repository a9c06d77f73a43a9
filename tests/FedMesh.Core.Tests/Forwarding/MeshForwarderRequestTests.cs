using System.Diagnostics;
using System.Net;
using System.Text;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>What the direct HTTP/1.1 path puts on the wire for a request: its head, then its body.</summary>
public sealed class MeshForwarderRequestTests
{
    private const string Ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

    [Fact]
    public async Task SendAsync_RequestHead_MethodAndRawTargetKeptHostAndCallerReplacedHopByHopDropped()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => Ok);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, transformer: new TestTransformer { Host = "app.internal:8080" });
        const string target = "/a/../b/%2e%2E/c%2Fd;p?x=1&y=%20z&&q=a+b&e=&%7E";

        var response = await RawClient.SendAsync(front.Address,
            $"PATCH {target} HTTP/1.1\r\n" +
            "Host: front.example:1234\r\n" +
            // Kestrel rewrites a Connection field that holds keep-alive or upgrade to that one token, so only other tokens reach the forwarder.
            "Connection: X-Secret, x-other\r\n" +
            "x-secret: for this hop only\r\n" +
            "X-Other: this one too\r\n" +
            "Keep-Alive: timeout=5\r\n" +
            "Proxy-Connection: keep-alive\r\n" +
            "TE: trailers\r\n" +
            "x-fedmesh-caller: spiffe://fedmesh.local/cluster/evil/ns/default/sa/mallory\r\n" +
            "x-multi: one\r\n" +
            "x-multi: two, three\r\n" +
            "Accept: text/plain\r\n" +
            "Content-Length: 0\r\n" +
            "\r\n");
        var seen = await upstream.NextRequestAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal($"PATCH {target} HTTP/1.1", seen.Head.StartLine);
        Assert.Equal(["app.internal:8080"], seen.Values("Host"));
        Assert.Equal("Host", seen.Head.Fields[0].Name); // first, as HttpClient sends it
        Assert.Equal([TestTransformer.DefaultCaller], seen.Values("x-fedmesh-caller"));
        foreach (var dropped in new[] { "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Transfer-Encoding", "x-secret", "x-other" })
            Assert.False(seen.Head.Has(dropped), $"{dropped} went upstream:\n{seen.Head.Text}");
        Assert.Equal(["one", "two, three"], seen.Values("x-multi"));
        Assert.Equal(["text/plain"], seen.Values("Accept"));
        Assert.Equal(["0"], seen.Values("Content-Length"));
    }

    [Fact]
    public async Task SendAsync_CallerIsNull_NoCallerHeaderEvenIfTheClientSentOne()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => Ok);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, transformer: new TestTransformer { CallerId = null });
        var request = new HttpRequestMessage(HttpMethod.Get, "/who");
        request.Headers.Add("x-fedmesh-caller", "spiffe://fedmesh.local/cluster/evil/ns/default/sa/mallory");

        var (response, _, outcome) = await front.SendAsync(request);
        var seen = await upstream.NextRequestAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.False(seen.Head.Has("x-fedmesh-caller"), seen.Head.Text);
    }

    [Fact]
    public async Task SendAsync_DefaultUpstreamHost_IsTheClientsHost()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => Ok);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);
        var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Host = "web.default.svc:80";

        await front.SendAsync(request);
        var seen = await upstream.NextRequestAsync();

        Assert.Equal(["web.default.svc:80"], seen.Values("Host"));
        Assert.Equal("GET / HTTP/1.1", seen.Head.StartLine);
        Assert.False(seen.Head.Has("Content-Length"), "a GET without a body announces none");
    }

    [Fact]
    public async Task SendAsync_ResponseArrives_DecorateResponseRanAndHeadersCopied()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nx-from-upstream: 1\r\n\r\nok");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, body, outcome) = await front.GetAsync("/");

        Assert.Equal("ok", body);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Null(outcome.Feature);
        Assert.Equal("yes", Assert.Single(response.Headers.GetValues("x-decorated")));
        Assert.Equal("1", Assert.Single(response.Headers.GetValues("x-from-upstream")));
        Assert.Equal(1, front.Client.OpenConnections); // it went the direct way, on the client's own pool
    }

    [Fact]
    public async Task SendAsync_RequestTraced_TraceparentCarriesTheHopsSpanOnce()
    {
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        const string clientParent = $"00-{traceId}-b7ad6b7169203331-01";
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        await using var upstream = ScriptedUpstream.Answering(_ => Ok);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);
        var request = new HttpRequestMessage(HttpMethod.Get, "/traced");
        request.Headers.Add("traceparent", clientParent);

        await front.SendAsync(request);
        var seen = await upstream.NextRequestAsync();

        var traceparent = Assert.Single(seen.Values("traceparent"));
        Assert.StartsWith($"00-{traceId}-", traceparent); // the same trace
        Assert.NotEqual(clientParent, traceparent); // with the front's span as the parent
    }

    [Theory]
    [InlineData(1)]
    [InlineData(10)]
    [InlineData(16 * 1024)] // the largest body sent in the head's write
    [InlineData(16 * 1024 + 1)]
    [InlineData(200 * 1024)]
    public async Task SendAsync_ContentLengthBody_ArrivesIntactWithItsLength(int size)
    {
        await using var upstream = ScriptedUpstream.Answering(_ => Ok);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);
        var payload = new byte[size];
        new Random(size).NextBytes(payload);

        var (response, _, outcome) = await front.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/upload") { Content = new ByteArrayContent(payload) });
        var seen = await upstream.NextRequestAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal([size.ToString()], seen.Values("Content-Length"));
        Assert.False(seen.Head.Has("Transfer-Encoding"));
        Assert.Equal(payload, seen.Body);
    }

    [Fact]
    public async Task SendAsync_ChunkedRequestBody_ArrivesChunkFramedAndDecodesToTheSameBytes()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => Ok);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);
        var pieces = new[] { "first piece;", new string('x', 40_000), "last piece" };

        var (response, _, outcome) = await front.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/stream") { Content = new PiecesContent(pieces) });
        var seen = await upstream.NextRequestAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(["chunked"], seen.Values("Transfer-Encoding"));
        Assert.False(seen.Head.Has("Content-Length"));
        Assert.Equal(string.Concat(pieces), Encoding.ASCII.GetString(seen.Body));
        Assert.True(seen.Chunks >= 1);
        Assert.EndsWith("\r\n0\r\n\r\n", Encoding.ASCII.GetString(seen.RawBody));
    }

    [Fact]
    public async Task SendAsync_ChunkedRequestFromRawClient_TransferEncodingSentOnceAsChunked()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => Ok);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var response = await RawClient.SendAsync(front.Address,
            "POST /raw HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;name=v\r\nabc\r\n4\r\ndefg\r\n0\r\nx-trailer: t\r\n\r\n");
        var seen = await upstream.NextRequestAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal(["chunked"], seen.Values("Transfer-Encoding"));
        Assert.Equal("abcdefg", Encoding.ASCII.GetString(seen.Body));
    }

    /// <summary>A body of unknown length (sent chunked), written piece by piece.</summary>
    private sealed class PiecesContent(string[] pieces) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            foreach (var piece in pieces)
            {
                await stream.WriteAsync(Encoding.ASCII.GetBytes(piece));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
