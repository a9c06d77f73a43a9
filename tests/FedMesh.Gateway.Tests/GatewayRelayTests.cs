using System.Collections.Concurrent;
using System.Diagnostics;
using FedMesh.Core.Telemetry;
using FedMesh.Gateway.Tests.Fakes;
using FedMesh.Tests.Shared;

namespace FedMesh.Gateway.Tests;

/// <summary>
/// HTTP/1.1 through the gateway's byte relay, seen on the wire at both ends: what the workload receives, what the
/// caller gets back, and the requests the relay leaves to Kestrel's way on the same connection.
/// </summary>
public sealed class GatewayRelayTests(GatewayFixture fixture) : IClassFixture<GatewayFixture>
{
    private RawMessage LastReceived() => fixture.Raw.Received.Last();

    [Fact]
    public async Task Request_ReachesWorkloadWithOnlyTheHopsFieldsChanged()
    {
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("GET /relay/path?q=1&r=%20 HTTP/1.1\r\nHost: raw.default:7001\r\nX-Custom: a, b\r\nAccept: */*\r\n"
            + "Connection: keep-alive\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\n"
            + "x-fedmesh-caller: spiffe://fedmesh.local/cluster/west/ns/fedmesh-system/sa/admin\r\nX-FedMesh-Caller: forged\r\n"
            + "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
        var seen = LastReceived();
        Assert.Equal("GET /relay/path?q=1&r=%20 HTTP/1.1", seen.StartLine);
        Assert.Equal(["raw.default:7001"], seen.Fields("Host"));
        Assert.Equal(["a, b"], seen.Fields("X-Custom"));
        Assert.Equal(["*/*"], seen.Fields("Accept"));
        Assert.Equal(["00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"], seen.Fields("traceparent"));
        Assert.Equal([fixture.EastCaller.Id.ToString()], seen.Fields("x-fedmesh-caller"));
        Assert.Empty(seen.Fields("Connection"));
        Assert.Empty(seen.Fields("Keep-Alive"));
        Assert.Empty(seen.Fields("TE"));
        Assert.Empty(seen.Fields("Proxy-Connection"));
    }

    [Fact]
    public async Task Response_KeepsEndToEndFieldsAndDropsHopByHopOnes()
    {
        fixture.Raw.Script["/fields"] = _ => new RawAnswer("HTTP/1.1 201 Made Here\r\nContent-Type: text/plain\r\nConnection: keep-alive, x-hop\r\n"
            + "x-hop: drop me\r\nKeep-Alive: timeout=1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nDate: Tue, 01 Dec 2026 10:00:00 GMT\r\nContent-Length: 5\r\n\r\nhello");
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("GET /fields HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 201 Made Here", response.StartLine);
        Assert.Equal("hello", response.BodyText);
        Assert.Equal(["a=1", "b=2"], response.Fields("Set-Cookie"));
        Assert.Equal("text/plain", response.Field("Content-Type"));
        Assert.Equal("5", response.Field("Content-Length"));
        Assert.Equal("Tue, 01 Dec 2026 10:00:00 GMT", response.Field("Date"));
        Assert.Empty(response.Fields("x-hop"));
        Assert.Empty(response.Fields("Keep-Alive"));
        Assert.Empty(response.Fields("Connection"));
    }

    [Fact]
    public async Task ChunkedResponse_IsReframedWithoutExtensionsOrTrailers_AndConnectionCarriesOn()
    {
        fixture.Raw.Script["/chunked"] = _ => new RawAnswer("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nx-trailer: t\r\n\r\n");
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("GET /chunked HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var response = await client.ReadResponseAsync();
        await client.SendAsync("GET /after HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var next = await client.ReadResponseAsync();

        Assert.Equal("chunked", response.Field("Transfer-Encoding"));
        Assert.Equal("5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n", response.BodyText);
        Assert.NotNull(response.Field("Date")); // added: the upstream sent none
        Assert.Equal("HTTP/1.1 200 OK", next.StartLine);
    }

    [Fact]
    public async Task ResponseUntilClose_ReachesTheCallerWhole_ThenTheConnectionCloses()
    {
        fixture.Raw.Script["/until-close"] = _ => new RawAnswer("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", Close: true);
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("GET /until-close HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
        Assert.Equal("close", response.Field("Connection"));
        Assert.Equal("all of it", response.BodyText);
    }

    [Fact]
    public async Task HeadAndBodylessStatuses_KeepTheirFieldsAndTheConnection()
    {
        fixture.Raw.Script["/head"] = _ => new RawAnswer("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
        fixture.Raw.Script["/not-modified"] = _ => new RawAnswer("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1000\r\n\r\n");
        fixture.Raw.Script["/no-content"] = _ => new RawAnswer("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("HEAD /head HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var head = await client.ReadResponseAsync(head: true);
        await client.SendAsync("GET /not-modified HTTP/1.1\r\nHost: raw.default\r\nIf-None-Match: \"v1\"\r\n\r\n");
        var notModified = await client.ReadResponseAsync();
        await client.SendAsync("DELETE /no-content HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var noContent = await client.ReadResponseAsync();
        await client.SendAsync("GET /after HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var after = await client.ReadResponseAsync();

        Assert.Equal("1000", head.Field("Content-Length")); // the length a GET would have had
        Assert.Equal("304", notModified.StartLine.Split(' ')[1]);
        Assert.Equal("\"v1\"", notModified.Field("ETag"));
        Assert.Equal("204", noContent.StartLine.Split(' ')[1]);
        Assert.Empty(noContent.Fields("Content-Length"));
        Assert.Equal("HTTP/1.1 200 OK", after.StartLine);
    }

    [Fact]
    public async Task PipelinedRequests_AreAnsweredInOrder()
    {
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("POST /one HTTP/1.1\r\nHost: raw.default\r\nContent-Length: 3\r\n\r\none"
            + "POST /two HTTP/1.1\r\nHost: raw.default\r\nContent-Length: 3\r\n\r\ntwo"
            + "GET /three HTTP/1.1\r\nHost: raw.default\r\n\r\n");

        Assert.Equal("one", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("two", (await client.ReadResponseAsync()).BodyText);
        Assert.Equal("", (await client.ReadResponseAsync()).BodyText);
    }

    [Fact]
    public async Task LargeBody_ArrivingInPieces_ReachesTheWorkloadExactly()
    {
        var body = new byte[200_000];
        new Random(7).NextBytes(body);
        for (var i = 0; i < body.Length; i++)
            body[i] = (byte)('a' + body[i] % 26);
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync($"PUT /upload HTTP/1.1\r\nHost: raw.default\r\nContent-Length: {body.Length}\r\n\r\n");
        for (var at = 0; at < body.Length; at += 50_000)
        {
            await Task.Delay(10);
            await client.SendAsync(body[at..Math.Min(body.Length, at + 50_000)]);
        }
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
        Assert.Equal(body, LastReceived().Body);
        Assert.Equal(body, response.Body);
    }

    [Fact]
    public async Task RequestsTheRelayDoesNotTake_GoKestrelsWay_WithTheRestOfTheConnection()
    {
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("GET /first HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var relayed = await client.ReadResponseAsync();
        // A chunked upload: Kestrel's way forwards it (as chunked: the length is unknown).
        await client.SendAsync("POST /chunked-upload HTTP/1.1\r\nHost: raw.default\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
        var viaKestrel = await client.ReadResponseAsync();
        var upload = LastReceived();
        await client.SendAsync("GET /third HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var third = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", relayed.StartLine);
        Assert.Equal("raw", relayed.Field("x-backend"));
        Assert.Equal("HTTP/1.1 200 OK", viaKestrel.StartLine);
        Assert.Equal(upload.BodyText, viaKestrel.BodyText); // the raw backend echoes the body as it arrived
        Assert.Equal("3\r\nabc\r\n0\r\n\r\n", upload.BodyText);
        Assert.Equal([fixture.EastCaller.Id.ToString()], upload.Fields("x-fedmesh-caller"));
        Assert.Equal("/third", LastReceived().StartLine.Split(' ')[1]);
        Assert.Equal("HTTP/1.1 200 OK", third.StartLine);
    }

    [Theory]
    [InlineData("GET /fedmesh/probe HTTP/1.1\r\nHost: raw.default\r\n\r\n", "200", "ok\n")]
    [InlineData("GET /x HTTP/1.1\r\nHost: secret.default\r\n\r\n", "404", "service 'secret.default' is not exported by cluster west\n")]
    [InlineData("GET /x HTTP/1.1\r\nHost: down.default\r\n\r\n", "503", "service 'down.default' has no healthy endpoint in cluster west\n")]
    [InlineData("GET /x HTTP/1.1\r\nHost : raw.default\r\n\r\n", "400", null)]
    [InlineData("GET /x HTTP/1.1\r\nHost: raw.default\r\nHost: raw.default\r\n\r\n", "400", null)]
    [InlineData("GET /x HTTP/1.1\r\nHost: raw.default\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "400", null)]
    [InlineData("GET /x HTTP/1.1\r\n\r\n", "400", null)]
    public async Task TheGatewaysOwnAnswersAndRefusals_AreKestrelsWays(string request, string status, string? body)
    {
        await using var client = await fixture.RawClient(fixture.EastCaller);
        var received = fixture.Raw.Received.Count;

        await client.SendAsync(request);
        var response = await client.ReadResponseAsync();

        Assert.Equal(status, response.StartLine.Split(' ')[1]);
        if (body is not null)
            Assert.Contains(body, response.BodyText);
        Assert.Equal(received, fixture.Raw.Received.Count);
    }

    [Fact]
    public async Task UpstreamClosingWithoutAnswer_Gets502NamingTheEndpoint_AndTheConnectionCarriesOn()
    {
        fixture.Raw.Script["/vanish"] = _ => null;
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("GET /vanish HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var failed = await client.ReadResponseAsync();
        await client.SendAsync("GET /after HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var after = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 502 Bad Gateway", failed.StartLine);
        Assert.Equal("upstream-unavailable", failed.Field("x-fedmesh-error"));
        Assert.Contains($"endpoint {fixture.Raw.Address}", failed.BodyText);
        Assert.Contains("of service 'raw.default' failed", failed.BodyText);
        Assert.Equal("HTTP/1.1 200 OK", after.StartLine);
    }

    [Fact]
    public async Task ConnectionClose_IsAnsweredThenTheConnectionCloses()
    {
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync("GET /bye HTTP/1.1\r\nHost: raw.default\r\nConnection: close\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", response.StartLine);
        Assert.Equal("close", response.Field("Connection"));
        Assert.True(await client.ClosedAsync());
    }

    [Fact]
    public async Task TracedRequest_GetsTheGatewaysSpan_WhichTheWorkloadSeesAsItsParent()
    {
        const string traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == MeshTracing.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = span =>
            {
                if (span.TraceId.ToHexString() == traceId)
                    spans.Enqueue(span);
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var client = await fixture.RawClient(fixture.EastCaller);

        await client.SendAsync($"GET /traced HTTP/1.1\r\nHost: raw.default\r\ntraceparent: 00-{traceId}-00f067aa0ba902b7-01\r\ntracestate: vendor=1\r\n\r\n");
        await client.ReadResponseAsync();
        await Eventually.TrueAsync(() => !spans.IsEmpty, "the gateway's span to end", GatewayFixture.Patience);

        var span = Assert.Single(spans);
        Assert.Equal(MeshTracing.GatewaySpan, span.OperationName);
        Assert.Equal("00f067aa0ba902b7", span.ParentSpanId.ToHexString());
        Assert.Equal(200, span.GetTagItem("http.response.status_code"));
        Assert.Equal("raw", span.GetTagItem(MeshMetrics.ServiceTag));
        var seen = LastReceived();
        Assert.Equal([$"00-{traceId}-{span.SpanId.ToHexString()}-01"], seen.Fields("traceparent"));
        Assert.Equal(["vendor=1"], seen.Fields("tracestate"));
    }

    [Fact]
    public async Task UnlinkedCaller_IsRefusedOnKestrelsWay()
    {
        await using var client = await fixture.RawClient(fixture.NorthCaller);
        var received = fixture.Raw.Received.Count;

        await client.SendAsync("GET /x HTTP/1.1\r\nHost: raw.default\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("403", response.StartLine.Split(' ')[1]);
        Assert.Equal("cluster-not-linked", response.Field("x-fedmesh-error"));
        Assert.Equal(received, fixture.Raw.Received.Count);
    }
}
