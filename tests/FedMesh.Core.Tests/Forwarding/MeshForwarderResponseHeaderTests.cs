using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>Which response headers the direct HTTP/1.1 path passes on, and that each response carries its own.</summary>
public sealed class MeshForwarderResponseHeaderTests
{
    [Fact]
    public async Task SendAsync_FieldsChangeBetweenResponsesOnOneConnection_EachResponseCarriesItsOwn()
    {
        // The connection keeps the last response's field strings by position for reuse; a field that changes its
        // value, its name or its position must never be answered with the previous response's string.
        string[] heads =
        [
            "X-Kind: alpha\r\nETag: \"1\"\r\nServer: up",
            "X-Kind: alpha\r\nETag: \"2\"\r\nServer: up",
            "X-Other: alpha\r\nETag: \"2\"\r\nServer: up",
            "ETag: \"2\"\r\nX-Kind: alpha\r\nServer: up\r\nX-Kind: beta",
            "X-Kind: Alpha\r\nETag: \"2\"\r\nServer: UP",
        ];
        await using var upstream = ScriptedUpstream.Answering(r =>
            $"HTTP/1.1 200 OK\r\n{heads[r.Sequence - 1]}\r\nContent-Length: 1\r\n\r\n{r.Sequence}");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var responses = new List<HttpResponseMessage>();
        for (var i = 0; i < heads.Length; i++)
        {
            var (response, body, outcome) = await front.GetAsync("/");
            Assert.Equal(ForwarderError.None, outcome.Error);
            Assert.Equal($"{i + 1}", body);
            responses.Add(response);
        }

        static string? One(HttpResponseMessage r, string name) => r.Headers.TryGetValues(name, out var v) ? string.Join("|", v) : null;
        Assert.Equal(("alpha", "\"1\"", "up"), (One(responses[0], "X-Kind"), One(responses[0], "ETag"), One(responses[0], "Server")));
        Assert.Equal(("alpha", "\"2\"", "up"), (One(responses[1], "X-Kind"), One(responses[1], "ETag"), One(responses[1], "Server")));
        Assert.Null(One(responses[2], "X-Kind"));
        Assert.Equal("alpha", One(responses[2], "X-Other"));
        Assert.Equal("alpha|beta", One(responses[3], "X-Kind"));
        Assert.Null(One(responses[3], "X-Other"));
        Assert.Equal(("Alpha", "UP"), (One(responses[4], "X-Kind"), One(responses[4], "Server")));
        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_HopByHopResponseHeaders_DroppedOthersKeptStatusKept()
    {
        await using var upstream = ScriptedUpstream.Answering(_ =>
            "HTTP/1.1 418 I'm a teapot\r\n" +
            "Connection: keep-alive, X-Hop\r\n" +
            "Keep-Alive: timeout=5, max=100\r\n" +
            "X-Hop: secret\r\n" +
            "Proxy-Connection: keep-alive\r\n" +
            "Upgrade: h2c\r\n" +
            "Set-Cookie: a=1; Path=/\r\n" +
            "Set-Cookie: b=2; HttpOnly\r\n" +
            "x-kept: yes\r\n" +
            "Cache-Control: no-store\r\n" +
            "Transfer-Encoding: chunked\r\n" +
            "\r\n" +
            "6\r\nteapot\r\n0\r\n\r\n");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var response = await RawClient.SendAsync(front.Address, "GET /tea HTTP/1.1\r\nHost: x\r\n\r\n");
        var outcome = await front.NextOutcomeAsync();

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(418, response.Status);
        Assert.True(response.Complete);
        Assert.Equal("teapot", response.Text);
        foreach (var dropped in new[] { "Keep-Alive", "X-Hop", "Proxy-Connection", "Upgrade", "Trailer" })
            Assert.False(response.Head.Has(dropped), $"{dropped} reached the client:\n{response.Head.Text}");
        Assert.DoesNotContain(response.Head.Values("Connection"), v => v.Contains("X-Hop", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(["chunked"], response.Head.Values("Transfer-Encoding")); // the front's own framing, once
        Assert.Equal(["a=1; Path=/", "b=2; HttpOnly"], response.Head.Values("Set-Cookie"));
        Assert.Equal(["yes"], response.Head.Values("x-kept"));
        Assert.Equal(["no-store"], response.Head.Values("Cache-Control"));
    }

    [Fact]
    public async Task SendAsync_SeveralConnectionHeaders_EveryFieldTheyNameDropped()
    {
        await using var upstream = ScriptedUpstream.Answering(_ =>
            "HTTP/1.1 200 OK\r\nConnection: x-first\r\nx-first: 1\r\nConnection: x-second\r\nx-second: 2\r\nx-kept: 3\r\nContent-Length: 2\r\n\r\nok");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, body, _) = await front.GetAsync("/");

        Assert.Equal("ok", body);
        Assert.False(response.Headers.Contains("x-first"));
        Assert.False(response.Headers.Contains("x-second"));
        Assert.True(response.Headers.Contains("x-kept"));
    }
}
