using System.Net;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>A response the transformer holds back (to retry it elsewhere) never reaches the client, and its connection is kept when that is cheap.</summary>
public sealed class MeshForwarderHeldBackTests
{
    private static readonly TestTransformer No503 = new() { Accepts = status => status != 503 };

    [Fact]
    public async Task SendAsync_ResponseHeldBack_NothingOfItReachesTheClientAndTheHandlerAnswers()
    {
        await using var upstream = ScriptedUpstream.Answering(_ =>
            "HTTP/1.1 503 Service Unavailable\r\nx-upstream: yes\r\nSet-Cookie: s=1\r\nContent-Length: 16\r\n\r\nupstream says no");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, transformer: No503);

        var (response, body, outcome) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.False(outcome.ResponseStarted);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwardingFront.HandlerAnswer, body);
        Assert.Equal("held-back", Assert.Single(response.Headers.GetValues("x-front")));
        Assert.False(response.Headers.Contains("x-upstream"));
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.False(response.Headers.Contains("x-decorated"));
    }

    [Theory]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 16\r\n\r\nupstream says no")]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")]
    public async Task SendAsync_SmallBodyHeldBack_DrainedAndTheConnectionReused(string heldBack)
    {
        await using var upstream = ScriptedUpstream.Answering(r => r.Sequence == 1 ? heldBack : "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfine!");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, transformer: No503);

        var (_, first, _) = await front.GetAsync("/");
        var (_, second, outcome) = await front.GetAsync("/");

        Assert.Equal(ForwardingFront.HandlerAnswer, first);
        Assert.Equal("fine!", second);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(1, upstream.Accepted);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SendAsync_LargeOrChunkedBodyHeldBack_ConnectionClosedNotReadThrough(bool chunked)
    {
        var large = new string('n', 200 * 1024);
        await using var upstream = ScriptedUpstream.Answering(r => r.Sequence > 1 || r.Connection.Number > 1
            ? "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfine!"
            : chunked
                ? "HTTP/1.1 503 Service Unavailable\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n"
                : $"HTTP/1.1 503 Service Unavailable\r\nContent-Length: {large.Length}\r\n\r\n{large}");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, transformer: No503);

        var (_, first, _) = await front.GetAsync("/");
        var (_, second, _) = await front.GetAsync("/");
        var closed = await upstream.NextClosedByPeerAsync();

        Assert.Equal(ForwardingFront.HandlerAnswer, first);
        Assert.Equal("fine!", second);
        Assert.Equal(2, upstream.Accepted);
        Assert.Equal(1, closed.Number);
    }
}
