using System.Net;
using System.Text;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>How the direct HTTP/1.1 path reads each response framing (the headers it passes on: MeshForwarderResponseHeaderTests).</summary>
public sealed class MeshForwarderResponseTests
{
    [Fact]
    public async Task SendAsync_ContentLengthResponse_BodyAndLengthArriveAndConnectionIsReused()
    {
        await using var upstream = ScriptedUpstream.Answering(r => $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nhello {r.Sequence} world");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (first, firstBody, outcome) = await front.GetAsync("/");
        var (_, secondBody, _) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("hello 1 world", firstBody);
        Assert.Equal(13, first.Content.Headers.ContentLength);
        Assert.Equal("text/plain", first.Content.Headers.ContentType!.ToString());
        Assert.Equal("hello 2 world", secondBody);
        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_LargeContentLengthResponse_ArrivesIntact()
    {
        var payload = new byte[1024 * 1024 + 7];
        new Random(7).NextBytes(payload);
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.SendAsync($"HTTP/1.1 200 OK\r\nContent-Length: {payload.Length}\r\n\r\n");
                await c.SendAsync(payload);
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var response = await front.Http.GetAsync("/big");
        var body = await response.Content.ReadAsByteArrayAsync();
        var outcome = await front.NextOutcomeAsync();

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(payload, body);
    }

    [Fact]
    public async Task SendAsync_ChunkedResponseWithTrailers_BodyDecodedTrailersNotForwardedConnectionReused()
    {
        await using var upstream = ScriptedUpstream.Answering(_ =>
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-checksum\r\n\r\n" +
            "5;ext=1\r\nhello\r\n1\r\n \r\nA\r\nchunked wo\r\n3\r\nrld\r\n0\r\nx-checksum: abc\r\nx-other: def\r\n\r\n");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, body, outcome) = await front.GetAsync("/");
        var (_, again, _) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("hello chunked world", body);
        Assert.Equal("hello chunked world", again);
        Assert.False(response.Headers.Contains("x-checksum"));
        Assert.False(response.Headers.Contains("Trailer"));
        Assert.Empty(response.TrailingHeaders);
        Assert.Equal(1, upstream.Accepted); // the trailer section was read to its end, so the connection could carry the next request
    }

    [Fact]
    public async Task SendAsync_ChunkedResponseDribbledByteByByte_Decoded()
    {
        const string response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                foreach (var b in Encoding.ASCII.GetBytes(response))
                    await c.SendAsync([b]);
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (_, body, outcome) = await front.GetAsync("/");
        var (_, again, _) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("abcd0123456789abcdef", body);
        Assert.Equal(body, again);
        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_CloseDelimitedResponse_ReadUntilCloseAndConnectionNotReused()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            var request = await c.ReadRequestAsync();
            await c.SendAsync($"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close {request!.Connection.Number} ");
            await c.SendAsync(new string('z', 50_000));
            c.Close();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (first, body, outcome) = await front.GetAsync("/");
        var (_, second, _) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("until close 1 " + new string('z', 50_000), body);
        Assert.True(first.Headers.TransferEncodingChunked); // the front frames what it cannot know the length of
        Assert.StartsWith("until close 2 ", second);
        Assert.Equal(2, upstream.Accepted);
        Assert.Equal(0, front.Client.OpenConnections);
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n")] // both: chunked wins (RFC 9112 §6.3)
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfake!")] // bytes nobody asked for
    public async Task SendAsync_ResponseTheConnectionCannotBeTrustedAfter_BodyForwardedConnectionNotReused(string answer)
    {
        await using var upstream = ScriptedUpstream.Answering(_ => answer);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (_, first, outcome) = await front.GetAsync("/");
        var (_, second, _) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("hello", first);
        Assert.Equal("hello", second); // not "fake!"
        Assert.Equal(2, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_HeadWithContentLength_LengthPassedNoBodyReadConnectionReused()
    {
        await using var upstream = ScriptedUpstream.Answering(r => r.Method == "HEAD"
            ? "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 1234\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nget");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (head, headBody, outcome) = await front.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/file"));
        var (_, getBody, _) = await front.GetAsync("/file");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(1234, head.Content.Headers.ContentLength);
        Assert.Equal("", headBody);
        Assert.Equal("get", getBody);
        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_NotModifiedWithContentLength_LengthPassedNoBodyReadConnectionReused()
    {
        await using var upstream = ScriptedUpstream.Answering(r => r.Sequence == 1
            ? "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nContent-Length: 1234\r\n\r\n"
            : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var response = await RawClient.SendAsync(front.Address, "GET /file HTTP/1.1\r\nHost: x\r\nIf-None-Match: \"v1\"\r\n\r\n");
        var outcome = await front.NextOutcomeAsync();
        var (_, next, _) = await front.GetAsync("/file");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(304, response.Status);
        Assert.Equal(["1234"], response.Head.Values("Content-Length"));
        Assert.Equal(["\"v1\""], response.Head.Values("ETag"));
        Assert.Equal("next", next);
        Assert.Equal(1, upstream.Accepted);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\nx-kind: none\r\n\r\n", 204)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nx-kind: none\r\n\r\n", 304)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nx-kind: none\r\n\r\n", 200)]
    public async Task SendAsync_ResponseWithoutBody_NothingReadAfterTheHeadConnectionReused(string answer, int status)
    {
        await using var upstream = ScriptedUpstream.Answering(r => r.Sequence == 1 ? answer : "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext");
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, body, outcome) = await front.GetAsync("/");
        var (_, next, _) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal("none", Assert.Single(response.Headers.GetValues("x-kind")));
        Assert.Equal("", body);
        Assert.Equal("next", next);
        Assert.Equal(1, upstream.Accepted);
    }

    [Theory]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", 204, "")]
    [InlineData("HTTP/1.1 200 OK\r\n\r\nno fields at all", 200, "no fields at all")]
    public async Task SendAsync_ResponseHeadWithoutAnyField_Forwarded(string answer, int status, string expected)
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            await c.ReadRequestAsync();
            await c.SendAsync(answer);
            c.Close();
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, body, outcome) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task SendAsync_InterimResponsesBeforeTheFinalOne_Skipped()
    {
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is not null)
            {
                await c.SendAsync("HTTP/1.1 100 Continue\r\n\r\n");
                await c.SendAsync("HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n");
                await c.SendAsync("HTTP/1.1 201 Created\r\nLocation: /things/1\r\nContent-Length: 7\r\n\r\ncreated");
            }
        });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix);

        var (response, body, outcome) = await front.GetAsync("/");
        var (_, again, _) = await front.GetAsync("/");

        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("created", body);
        Assert.Equal("/things/1", response.Headers.Location!.ToString());
        Assert.False(response.Headers.Contains("Link"));
        Assert.Equal("created", again);
        Assert.Equal(1, upstream.Accepted);
    }
}
