using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>
/// The byte relay's own duties, on a Kestrel front whose relay sends everything but <c>/kestrel…</c> to a scripted
/// upstream: what it reports for each request, its answers when the upstream fails, and what it leaves to Kestrel (its
/// timeouts and the server's stopping: Http11RelayTests.Lifetime.cs). Run twice: ahead of Kestrel on a shared port, as
/// the product's listeners run it, and as Kestrel's connection middleware.
/// </summary>
public abstract partial class Http11RelayTests
{
    /// <summary>Whether the relay runs ahead of Kestrel (<see cref="Core.Transport.SharedPortEndPoint.Front"/>).</summary>
    protected abstract bool Ahead { get; }

    private Task<RelayFront> StartAsync(string prefix, TimeSpan? activityTimeout = null, TimeSpan? keepAlive = null, TimeSpan? headTimeout = null) =>
        RelayFront.StartAsync(prefix, activityTimeout, keepAlive, headTimeout, Ahead);

    [Fact]
    public async Task EveryRelayedRequest_IsReportedOnceWithTheStatusTheCallerSaw()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 418 Teapot\r\nContent-Length: 2\r\n\r\nno");
        await using var front = await StartAsync(upstream.Prefix);
        await using var client = await front.ConnectAsync();

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\nGET /b HTTP/1.1\r\nHost: svc\r\n\r\n");
        await client.ReadResponseAsync();
        await client.ReadResponseAsync();
        var seen = await upstream.NextRequestAsync();

        Assert.Equal([(418, ForwarderError.None), (418, ForwarderError.None)], (await front.Relay.CompletionsAsync(2)).Select(c => (c.Status, c.Error)));
        Assert.Equal([RelayFront.Caller], seen.Values("x-fedmesh-caller"));
    }

    [Fact]
    public async Task OwnersSlot_IsKeptAcrossTheRequestsOfAConnection_AndNewForAnother()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var front = await StartAsync(upstream.Prefix);
        await using (var first = await front.ConnectAsync())
        {
            for (var i = 0; i < 3; i++)
            {
                await first.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
                Assert.Equal("HTTP/1.1 200 OK", (await first.ReadResponseAsync()).StartLine);
            }
        }
        await using var second = await front.ConnectAsync();
        await second.SendAsync("GET /b HTTP/1.1\r\nHost: svc\r\n\r\n");
        await second.ReadResponseAsync();

        await front.Relay.CompletionsAsync(4); // each request's state is recorded with its report
        var states = front.Relay.States.ToArray();
        Assert.Equal([1, 2, 3, 1], states.Select(s => s.Request));
        Assert.Same(states[0].State, states[2].State); // the first connection's, set on its first request and kept
        Assert.NotSame(states[0].State, states[3].State); // a new connection starts with an empty slot
    }

    [Fact]
    public async Task HeadsLargerThanTheRelaysBuffers_GoWhole_AndAConnectionAfterSendsOnlyItsOwnFields()
    {
        // A connection's buffers come from a shared pool and go back when it ends: a head that outgrows them, and the
        // next connection that gets them, must each send exactly their own head.
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var front = await StartAsync(upstream.Prefix);
        var big = new string('b', 9000);
        await using (var first = await front.ConnectAsync())
        {
            await first.SendAsync($"GET /big HTTP/1.1\r\nHost: svc\r\nx-big: {big}\r\n\r\n");
            Assert.Equal("HTTP/1.1 200 OK", (await first.ReadResponseAsync()).StartLine);
            await first.SendAsync("GET /small HTTP/1.1\r\nHost: svc\r\nx-n: 1\r\n\r\n");
            Assert.Equal("HTTP/1.1 200 OK", (await first.ReadResponseAsync()).StartLine);
        }
        await using var second = await front.ConnectAsync();
        await second.SendAsync("GET /next HTTP/1.1\r\nHost: svc\r\nx-n: 2\r\n\r\n");
        Assert.Equal("HTTP/1.1 200 OK", (await second.ReadResponseAsync()).StartLine);

        var seen = new[] { await upstream.NextRequestAsync(), await upstream.NextRequestAsync(), await upstream.NextRequestAsync() };
        Assert.Equal([big], seen[0].Values("x-big"));
        Assert.Empty(seen[1].Values("x-big"));
        Assert.Equal(["1"], seen[1].Values("x-n"));
        Assert.Empty(seen[2].Values("x-big"));
        Assert.Equal(["2"], seen[2].Values("x-n"));
        Assert.All(seen, request => Assert.Equal([RelayFront.Caller], request.Values("x-fedmesh-caller")));
        Assert.Equal(3, (await front.Relay.CompletionsAsync(3)).Count(c => c.Status == 200)); // all three relayed, none left to Kestrel
    }

    [Fact]
    public async Task UpstreamRefusingTheConnection_Gets502WithTheOwnersBody()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var front = await StartAsync($"http://127.0.0.1:{port}");
        await using var client = await front.ConnectAsync();

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 502 Bad Gateway", response.StartLine);
        Assert.Equal(TestRelay.FailureBody, response.BodyText);
        Assert.Equal("test-failure", response.Field("x-fedmesh-error"));
        var completion = Assert.Single(front.Relay.Completions);
        Assert.Equal((502, ForwarderError.Request), (completion.Status, completion.Error));
        Assert.IsAssignableFrom<SocketException>(completion.Exception);
    }

    [Fact]
    public async Task SilentUpstream_Gets504AfterTheActivityTimeout()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.WaitClosedByPeerAsync();
        });
        await using var front = await StartAsync(upstream.Prefix, activityTimeout: TimeSpan.FromMilliseconds(300));
        await using var client = await front.ConnectAsync();

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
        var response = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 504 Gateway Timeout", response.StartLine);
        Assert.Equal(ForwarderError.RequestTimedOut, Assert.Single(front.Relay.Completions).Error);
    }

    [Fact]
    public async Task UpstreamCuttingTheBodyShort_CutsTheClientConnection()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some");
            c.Close();
        });
        await using var front = await StartAsync(upstream.Prefix);
        await using var client = await front.ConnectAsync();

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");

        await Assert.ThrowsAnyAsync<IOException>(() => client.ReadResponseAsync()); // never taken for a whole response
        Assert.Equal(ForwarderError.ResponseBodyDestination, Assert.Single(front.Relay.Completions).Error);
    }

    [Fact]
    public async Task RequestTheOwnerDoesNotRoute_AndTheRestOfTheConnection_AreKestrels()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var front = await StartAsync(upstream.Prefix);
        await using var client = await front.ConnectAsync();

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
        var relayed = await client.ReadResponseAsync();
        await client.SendAsync("GET /kestrel HTTP/1.1\r\nHost: svc\r\n\r\n");
        var kestrels = await client.ReadResponseAsync();
        await client.SendAsync("GET /b HTTP/1.1\r\nHost: svc\r\n\r\n");
        var after = await client.ReadResponseAsync();

        Assert.Equal("HTTP/1.1 200 OK", relayed.StartLine);
        Assert.StartsWith("HTTP/1.1 299", kestrels.StartLine);
        Assert.StartsWith("HTTP/1.1 299", after.StartLine);
        Assert.Single(front.Relay.Completions);
    }

    [Theory]
    [InlineData("GET /a HTTP/1.0\r\nHost: svc\r\n\r\n")]
    [InlineData("GET http://svc/a HTTP/1.1\r\nHost: svc\r\n\r\n")]
    [InlineData("OPTIONS * HTTP/1.1\r\nHost: svc\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: svc\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")]
    [InlineData("POST /a HTTP/1.1\r\nHost: svc\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")]
    [InlineData("POST /a HTTP/1.1\r\nHost: svc\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: svc\r\nConnection: x-other\r\nx-other: 1\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: sv\u00e9c\r\n\r\n")]
    [InlineData("GET /a\u00e9 HTTP/1.1\r\nHost: svc\r\n\r\n")]
    [InlineData("GET /a HTTP/1.1\r\nHost: svc\r\nx-value: caf\u00e9\r\n\r\n")]
    public async Task RequestsOutsideThePlainShape_GoToKestrelUntouched(string request)
    {
        await using var front = await StartAsync("http://127.0.0.1:9");
        await using var client = await front.ConnectAsync();

        await client.SendAsync(request);
        var response = await client.ReadResponseAsync();

        Assert.DoesNotContain("502", response.StartLine); // not relayed (nothing listens upstream)
        Assert.Empty(front.Relay.Completions);
    }
}

public sealed class Http11RelayAheadOfKestrelTests : Http11RelayTests
{
    protected override bool Ahead => true;
}

public sealed class Http11RelayAsMiddlewareTests : Http11RelayTests
{
    protected override bool Ahead => false;
}
