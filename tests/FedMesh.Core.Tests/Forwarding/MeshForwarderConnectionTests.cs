using System.Net;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>When the direct path keeps an upstream connection for the next request, and what it does when a kept one went stale.</summary>
public sealed class MeshForwarderConnectionTests
{
    private static string Numbered(UpstreamRequest request) =>
        $"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n{request.Connection.Number}-{request.Sequence}";

    [Fact]
    public async Task SendAsync_SequentialRequests_ShareOneUpstreamConnection()
    {
        await using var upstream = ScriptedUpstream.Answering(Numbered);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var bodies = new List<string>();
        for (var i = 0; i < 3; i++)
            bodies.Add((await front.GetAsync("/")).Body);

        Assert.Equal(["1-1", "1-2", "1-3"], bodies);
        Assert.Equal(1, upstream.Accepted);
        Assert.Equal(1, front.Client.OpenConnections);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: x-other, Close\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")]
    public async Task SendAsync_UpstreamWillCloseTheConnection_NextRequestOpensANewOne(string answer)
    {
        // The upstream keeps the connection open: only the response says it is not for reuse.
        await using var upstream = ScriptedUpstream.Answering(_ => answer);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (_, first, _) = await front.GetAsync("/");
        var (_, second, _) = await front.GetAsync("/");
        var closed = await upstream.NextClosedByPeerAsync();

        Assert.Equal("ok", first);
        Assert.Equal("ok", second);
        Assert.Equal(2, upstream.Accepted);
        Assert.Equal(1, closed.Number);
        Assert.Equal(1, closed.RequestsRead);
    }

    [Fact]
    public async Task SendAsync_Http10ResponseWithKeepAlive_ConnectionReused()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        await front.GetAsync("/");
        await front.GetAsync("/");

        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_UpstreamClosedTheIdleConnection_NextGetSucceedsOnANewConnection()
    {
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            var request = await c.ReadRequestAsync();
            await c.SendAsync(Numbered(request!));
            c.Close();
            closed.TrySetResult();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (_, first, _) = await front.GetAsync("/");
        await closed.Task.WaitAsync(ScriptedUpstream.Deadline); // the FIN is sent; the pooled connection may or may not have seen it yet
        var (response, second, outcome) = await front.GetAsync("/");

        Assert.Equal("1-1", first);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("2-1", second);
        Assert.Equal(2, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_ReusedConnectionClosedWithoutAnAnswer_GetSentAgainOnANewConnection()
    {
        // The upstream takes the second request on the kept connection and closes it without answering,
        // as a server does that timed the idle connection out just as the request arrived.
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
            {
                if (c.Number == 1 && request.Sequence == 2)
                {
                    c.Close();
                    return;
                }
                await c.SendAsync(Numbered(request));
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (_, first, _) = await front.GetAsync("/once");
        var (response, second, outcome) = await front.GetAsync("/twice?x=1");
        var seen = new[] { await upstream.NextRequestAsync(), await upstream.NextRequestAsync(), await upstream.NextRequestAsync() };

        Assert.Equal("1-1", first);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("2-1", second);
        Assert.Equal([(1, "/once"), (1, "/twice?x=1"), (2, "/twice?x=1")], seen.Select(r => (r.Connection.Number, r.Target)));
    }

    [Fact]
    public async Task SendAsync_ReusedConnectionClosedAfterAStreamedBody_NotSentAgain502()
    {
        // A body read from the client as it is sent cannot be sent a second time.
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
            {
                if (request.Sequence == 2)
                {
                    c.Close();
                    return;
                }
                await c.SendAsync(Numbered(request));
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        await front.GetAsync("/");
        var (response, _, outcome) = await front.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("payload") });

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.Equal(1, upstream.Accepted); // a second try would have needed a new connection
    }

    [Theory]
    [InlineData(11)]
    [InlineData(200 * 1024)]
    public async Task SendAsync_ReusedConnectionClosedAfterABufferedBody_SentAgainWithTheSameBody(int size)
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
            {
                if (c.Number == 1 && request.Sequence == 2)
                {
                    c.Close();
                    return;
                }
                await c.SendAsync(Numbered(request));
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, bufferRequestBody: true);
        var payload = new byte[size];
        new Random(size).NextBytes(payload);

        await front.GetAsync("/");
        var (response, body, outcome) = await front.SendAsync(new HttpRequestMessage(HttpMethod.Put, "/doc") { Content = new ByteArrayContent(payload) });
        var seen = new[] { await upstream.NextRequestAsync(), await upstream.NextRequestAsync(), await upstream.NextRequestAsync() };

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("2-1", body);
        Assert.Equal(payload, seen[1].Body);
        Assert.Equal(payload, seen[2].Body);
        Assert.Equal((2, "PUT"), (seen[2].Connection.Number, seen[2].Method));
    }

    [Fact]
    public async Task SendAsync_ConnectionIdlePastTheIdleTimeout_Closed()
    {
        await using var upstream = ScriptedUpstream.Answering(Numbered);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, client: ForwardingFront.CreateClient(idleTimeout: TimeSpan.FromMilliseconds(500)));

        await front.GetAsync("/");
        var closed = await upstream.NextClosedByPeerAsync(); // by the sweep, within about a second
        var (_, body, _) = await front.GetAsync("/");

        Assert.Equal(1, closed.Number);
        Assert.Equal("2-1", body);
    }

    [Fact]
    public async Task SendAsync_ConcurrentRequests_EachOnItsOwnConnectionThenBothKept()
    {
        var bothArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
            {
                if (Interlocked.Increment(ref arrived) == 2)
                    bothArrived.TrySetResult();
                await bothArrived.Task.WaitAsync(c.Token);
                await c.SendAsync(Numbered(request));
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var first = front.Http.GetStringAsync("/");
        var second = front.Http.GetStringAsync("/");
        var both = await Task.WhenAll(first, second);
        await front.NextOutcomeAsync();
        await front.NextOutcomeAsync();
        var (_, third, _) = await front.GetAsync("/");

        Assert.Equal(["1-1", "2-1"], both.Order());
        Assert.EndsWith("-2", third);
        Assert.Equal(2, upstream.Accepted);
        Assert.Equal(2, front.Client.OpenConnections);
    }
}
