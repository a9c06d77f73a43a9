using System.Net;
using System.Net.Sockets;
using System.Text;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>What the client sees and the forwarder reports when the upstream fails, misbehaves or goes silent.</summary>
public sealed class MeshForwarderErrorTests
{
    [Fact]
    public async Task SendAsync_UpstreamRefusesTheConnection_502RequestError()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        await using var front = await ForwardingFront.StartAsync($"http://127.0.0.1:{port}");

        var (response, _, outcome) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.NotNull(outcome.Feature);
        Assert.Equal(ForwarderError.Request, outcome.Feature.Error);
        Assert.IsAssignableFrom<SocketException>(outcome.Feature.Exception);
        Assert.Equal(0, front.Client.OpenConnections);
    }

    [Fact]
    public async Task SendAsync_FreshConnectionClosedWithoutAnAnswer_502RequestErrorNotRetried()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            c.Close();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, _, outcome) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.Contains("without answering", outcome.Feature!.Exception!.Message);
        Assert.Equal(1, upstream.Accepted);
    }

    [Theory]
    [InlineData("HTTP/2 200 OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 099 Low\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("ICY 200 OK\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nx-bad : space before colon\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nx-folded: one\r\n two\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nno colon here\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nx-ctl: a\u0001b\r\nContent-Length: 2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok")]
    [InlineData("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")]
    public async Task SendAsync_MalformedResponseHead_502RequestErrorNothingOfItForwarded(string answer)
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync(answer);
            await c.WaitClosedByPeerAsync();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, body, outcome) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("", body);
        Assert.False(response.Headers.Contains("x-decorated"));
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.IsType<HttpRequestException>(outcome.Feature!.Exception);
        Assert.Equal(0, front.Client.OpenConnections);
    }

    [Fact]
    public async Task SendAsync_ResponseHeadLargerThan64KiB_502RequestError()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync("HTTP/1.1 200 OK\r\n");
            for (var i = 0; i < 1000; i++)
                await c.SendAsync($"x-filler-{i}: {new string('f', 100)}\r\n");
            await c.WaitClosedByPeerAsync();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, _, outcome) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.Contains("64 KiB", outcome.Feature!.Exception!.Message);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n", "12345")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "5\r\n12345\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n", "12345")] // close-delimited, but reset rather than closed
    public async Task SendAsync_UpstreamStopsMidBody_ClientSeesAnAbortedResponse(string head, string part)
    {
        var closeDelimited = !head.Contains("Content-Length") && !head.Contains("chunked");
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync(head + part);
            if (closeDelimited)
                c.Reset();
            else
                c.Close();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        // The head is already out when the body fails: the front aborts the connection, so the client cannot
        // take the part it got for the whole (the abort may even overtake the head).
        var failure = await Record.ExceptionAsync(async () =>
        {
            using var response = await front.Http.GetAsync("/", HttpCompletionOption.ResponseHeadersRead);
            await response.Content.ReadAsByteArrayAsync();
        });
        var outcome = await front.NextOutcomeAsync();

        Assert.NotNull(failure);
        Assert.Equal(ForwarderError.ResponseBodyDestination, outcome.Error);
        Assert.Equal(ForwarderError.ResponseBodyDestination, outcome.Feature!.Error);
        Assert.True(outcome.ResponseStarted);
    }

    [Fact]
    public async Task SendAsync_UpstreamNeverAnswers_504RequestTimedOutAfterTheActivityTimeout()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.WaitClosedByPeerAsync();
        });
        var config = ForwardingFront.Http11 with { ActivityTimeout = TimeSpan.FromSeconds(1) };
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, config);

        var (response, _, outcome) = await front.GetAsync("/");
        var closed = await upstream.NextClosedByPeerAsync();

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal(ForwarderError.RequestTimedOut, outcome.Error);
        Assert.Equal(ForwarderError.RequestTimedOut, outcome.Feature!.Error);
        Assert.InRange(outcome.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5)); // the sweep runs once a second
        Assert.Equal(1, closed.Number);
        Assert.Equal(0, front.Client.OpenConnections);
    }

    [Fact]
    public async Task SendAsync_UpstreamStallsMidBody_ClientSeesAnIncompleteResponseAfterTheActivityTimeout()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345");
            await c.WaitClosedByPeerAsync();
        });
        var config = ForwardingFront.Http11 with { ActivityTimeout = TimeSpan.FromSeconds(1) };
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, config);

        var failure = await Record.ExceptionAsync(async () =>
        {
            using var response = await front.Http.GetAsync("/", HttpCompletionOption.ResponseHeadersRead);
            await response.Content.ReadAsByteArrayAsync();
        });
        var outcome = await front.NextOutcomeAsync();

        Assert.NotNull(failure);
        Assert.Equal(ForwarderError.ResponseBodyDestination, outcome.Error);
        Assert.InRange(outcome.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SendAsync_ClientGoesAway_UpstreamConnectionClosedAndRequestCanceled()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.WaitClosedByPeerAsync();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);
        using var leave = new CancellationTokenSource();

        var call = front.Http.GetAsync("/", leave.Token);
        await upstream.NextRequestAsync();
        leave.Cancel();
        var closed = await upstream.NextClosedByPeerAsync();
        var outcome = await front.NextOutcomeAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, closed.Number);
        Assert.Equal(ForwarderError.RequestCanceled, outcome.Error);
        Assert.InRange(outcome.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SendAsync_ForwarderGivesUp_502RequestCanceled()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.WaitClosedByPeerAsync();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var call = front.Http.GetAsync("/");
        await upstream.NextRequestAsync();
        front.Abandon.Cancel();
        var response = await call;
        var outcome = await front.NextOutcomeAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.RequestCanceled, outcome.Error);
        Assert.InRange(outcome.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task SendAsync_ClientStopsMidRequestBody_UpstreamConnectionClosedNotReused()
    {
        var headArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            var head = await c.ReadHeadAsync();
            headArrived.TrySetResult();
            await c.ReadBodyAsync(head!); // never whole: the forwarder must close rather than leave half a body on the connection
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        using (var client = new TcpClient())
        {
            await client.ConnectAsync(front.Address.Host, front.Address.Port);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
            await client.GetStream().WriteAsync(new byte[20_000]);
            await headArrived.Task.WaitAsync(ScriptedUpstream.Deadline);
        }
        var outcome = await front.NextOutcomeAsync();
        var closed = await upstream.NextClosedByPeerAsync();

        Assert.True(outcome.Error is ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled, $"{outcome.Error}: {outcome.Feature?.Exception}");
        Assert.Equal(1, closed.Number);
        Assert.Equal(0, front.Client.OpenConnections);
    }

    [Theory]
    [InlineData("spiffe://fedmesh.local/x\r\nx-injected: yes", null)]
    [InlineData(null, "app.internal\r\nx-injected: yes")]
    [InlineData("spiffe://fedmesh.local/caf\u00e9\u4e2d", null)]
    public async Task SendAsync_TransformerValueCannotGoOnTheWire_502RequestErrorNothingSent(string? caller, string? host)
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, transformer: new TestTransformer { CallerId = caller, Host = host });

        var (response, _, outcome) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.IsType<InvalidOperationException>(outcome.Feature!.Exception);
        Assert.Equal(0, (await upstream.NextClosedByPeerAsync()).RequestsRead); // not one byte of the request went out
    }

    [Fact]
    public async Task SendAsync_ClientDisposed_502RequestError()
    {
        var client = ForwardingFront.CreateClient();
        client.Dispose();
        await using var front = await ForwardingFront.StartAsync("http://127.0.0.1:9", client: client);

        var (response, _, outcome) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.IsType<ObjectDisposedException>(outcome.Feature!.Exception);
    }
}
