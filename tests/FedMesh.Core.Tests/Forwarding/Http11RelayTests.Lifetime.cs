using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

// The relay's lifetime duties: its keep-alive and head timeouts, a client that connects and waits, and the server's
// stopping (idle connections closed at once, a request in flight finished, or aborted when the shutdown timeout ends).
public abstract partial class Http11RelayTests
{
    [Fact]
    public async Task IdleConnection_IsClosedAfterTheKeepAlive()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        // The keep-alive also runs from the connection's start until its first request (as Kestrel's does): 1 s leaves
        // room for a test run so busy that the request goes out a few hundred milliseconds after the connect.
        await using var front = await StartAsync(upstream.Prefix, keepAlive: TimeSpan.FromSeconds(1));
        await using var client = await front.ConnectAsync();

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
        await client.ReadResponseAsync();

        Assert.True(await client.ClosedAsync()); // Kestrel's own keep-alive (130 s) would outlast the wait
    }

    [Fact]
    public async Task ServerStopping_ClosesAnIdleConnectionAtOnce()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        await using var front = await StartAsync(upstream.Prefix);
        await using var client = await front.ConnectAsync();
        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
        await client.ReadResponseAsync();

        var stopping = front.StopAsync();

        Assert.True(await client.ClosedAsync()); // not held open until the host's shutdown timeout (30 s) aborts it
        await stopping;
    }

    [Fact]
    public async Task ServerStopping_LetsARequestInFlightFinish_ThenClosesItsConnection()
    {
        var answer = new TaskCompletionSource();
        await using var upstream = ScriptedUpstream.Start(async connection =>
        {
            while (await connection.ReadRequestAsync() is not null)
            {
                await answer.Task.WaitAsync(connection.Token);
                await connection.SendAsync("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlate");
            }
        });
        await using var front = await StartAsync(upstream.Prefix);
        await using var client = await front.ConnectAsync();
        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
        await upstream.NextRequestAsync();

        var stopping = front.StopAsync(TimeSpan.FromSeconds(20));
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted); // it waits for the request
        answer.SetResult();
        var response = await client.ReadResponseAsync();

        Assert.Equal(("HTTP/1.1 200 OK", "late"), (response.StartLine, response.BodyText));
        Assert.True(await client.ClosedAsync());
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([(200, ForwarderError.None)], front.Relay.Completions.Select(c => (c.Status, c.Error)));
    }

    [Fact]
    public async Task ServerStopping_AbortsARequestStillInFlightWhenTheShutdownTimeoutEnds()
    {
        var abandoned = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedUpstream.Start(async connection =>
        {
            await connection.ReadRequestAsync();
            abandoned.SetResult(await connection.WaitClosedByPeerAsync()); // never answers
        });
        await using var front = await StartAsync(upstream.Prefix);
        await using var client = await front.ConnectAsync();
        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");
        await upstream.NextRequestAsync();

        await front.StopAsync(TimeSpan.FromMilliseconds(300)).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(await client.ClosedAsync());
        Assert.True(await abandoned.Task.WaitAsync(ScriptedUpstream.Deadline)); // the upstream exchange was abandoned too
    }

    [Fact]
    public async Task ClientSilentAfterConnecting_IsServedWhenItSpeaks()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        await using var front = await StartAsync(upstream.Prefix);
        await using var client = await front.ConnectAsync();

        await Task.Delay(1500); // the port hands a connection over once its first bytes arrive (SharedPort.DeferAccept)
        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n\r\n");

        Assert.Equal("HTTP/1.1 200 OK", (await client.ReadResponseAsync()).StartLine);
    }

    [Fact]
    public async Task HeadThatNeverFinishes_IsClosedAfterTheHeadTimeout()
    {
        await using var front = await StartAsync("http://127.0.0.1:9", headTimeout: TimeSpan.FromMilliseconds(300));
        await using var client = await front.ConnectAsync();

        await client.SendAsync("GET /a HTTP/1.1\r\nHost: svc\r\n");

        Assert.True(await client.ClosedAsync());
        Assert.Empty(front.Relay.Completions);
    }
}
