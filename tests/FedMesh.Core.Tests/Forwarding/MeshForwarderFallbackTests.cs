using System.Net;
using System.Text;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>What the direct path does not take goes through YARP's forwarder and the client's handler, and still works.</summary>
public sealed class MeshForwarderFallbackTests
{
    [Fact]
    public async Task SendAsync_Http2Config_GoesThroughYarpWhichSpeaksH2c()
    {
        var preface = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            preface.TrySetResult(Encoding.ASCII.GetString(await c.Reader.ReadExactlyAsync(24, c.Token)));
            c.Close();
        });
        var http2 = new ForwarderRequestConfig { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, http2);

        var (response, _, outcome) = await front.GetAsync("/");

        Assert.Equal("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", await preface.Task.WaitAsync(ScriptedUpstream.Deadline));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode); // the scripted upstream speaks no HTTP/2
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.Equal(0, front.Client.OpenConnections); // nothing on the direct path's pools
    }

    [Fact]
    public async Task SendAsync_ExpectContinue_GoesThroughYarpAndTheBodyFollowsTheUpstreams100()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadHeadAsync() is { } head)
            {
                if (head.Values("Expect") is ["100-continue"])
                    await c.SendAsync("HTTP/1.1 100 Continue\r\n\r\n");
                var request = await c.ReadBodyAsync(head);
                await c.SendAsync($"HTTP/1.1 200 OK\r\nContent-Length: {request.Body.Length}\r\n\r\n{Encoding.ASCII.GetString(request.Body)}");
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);
        var request = new HttpRequestMessage(HttpMethod.Post, "/") { Content = new StringContent("after continue") };
        request.Headers.ExpectContinue = true;

        var (response, body, outcome) = await front.SendAsync(request);
        var seen = await upstream.NextRequestAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("after continue", body);
        Assert.Equal(["100-continue"], seen.Values("Expect"));
        Assert.Equal([TestTransformer.DefaultCaller], seen.Values("x-fedmesh-caller")); // the same transformer applied on YARP's way
        Assert.Equal(0, front.Client.OpenConnections);
    }

    [Fact]
    public async Task SendAsync_AsteriskFormTarget_GoesThroughYarp()
    {
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nAllow: GET\r\nContent-Length: 0\r\n\r\n");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var response = await RawClient.SendAsync(front.Address, "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n");
        var outcome = await front.NextOutcomeAsync();

        Assert.Equal(200, response.Status);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(0, front.Client.OpenConnections);
    }
}
