using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// A received message's content-length against its data (RFC 9113 §8.1.1), against a raw peer: more data than declared,
/// or less by the end of the stream, or a content-length that is no length, resets the stream with PROTOCOL_ERROR and
/// tells its owner, while the connection goes on; a response to HEAD, and a 304, carry a content-length without data.
/// </summary>
public sealed class Http2ContentLengthTests
{
    [Fact]
    public async Task RequestDataPastItsContentLength_ResetsTheStream_ProtocolError_OwnerTold()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/upload", endStream: false, ("content-length", "10"));

        await test.Peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteData(w, 1, new byte[6], endStream: false, Http2Frames.MinMaxFrameSize);
            Http2FrameWriter.WriteData(w, 1, new byte[6], endStream: false, Http2Frames.MinMaxFrameSize); // 12 of 10
        });

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        var owner = (StreamLog)Assert.Single(test.Owners);
        await owner.EndedAsync();
        Assert.Equal((1, Http2ErrorCode.ProtocolError, 6), (owner.Resets, owner.ResetCode, owner.Body.Length));
        Assert.Contains("the data comes to 12 octets, past the content-length of 10", owner.ResetError?.Message);
        await test.ExpectPingAnsweredAsync();
    }

    [Fact]
    public async Task RequestEndingShortOfItsContentLength_ResetsTheStream_ProtocolError_OwnerTold()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/upload", endStream: false, ("content-length", "10"));

        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, new byte[9], endStream: true, Http2Frames.MinMaxFrameSize));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        var owner = (StreamLog)Assert.Single(test.Owners);
        await owner.EndedAsync();
        Assert.Equal((1, Http2ErrorCode.ProtocolError), (owner.Resets, owner.ResetCode));
        Assert.Contains("ends after 9 octets of data, short of the content-length of 10", owner.ResetError?.Message);
    }

    [Fact]
    public async Task TrailersEndingShortOfTheContentLength_ResetTheStream_ProtocolError()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/upload", endStream: false, ("content-length", "10"));
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, new byte[4], endStream: false, Http2Frames.MinMaxFrameSize));

        await test.Peer.HeadersAsync(1, endStream: true, ("x-checksum", "1"));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        var owner = (StreamLog)Assert.Single(test.Owners);
        await owner.EndedAsync();
        Assert.Equal((1, Http2ErrorCode.ProtocolError, 4), (owner.Resets, owner.ResetCode, owner.Body.Length));
        Assert.Single(owner.Blocks); // the trailers did not reach it
    }

    [Fact]
    public async Task RequestMatchingItsContentLength_AcrossFramesAndTrailers_ReachesTheOwnerWhole()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());
        await test.Peer.RequestAsync(1, "/upload", endStream: false, ("content-length", "10, 10"));
        var body = Kit.Pattern(10);

        await test.Peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteData(w, 1, body.AsSpan(0, 4), endStream: false, Http2Frames.MinMaxFrameSize);
            Http2FrameWriter.WriteData(w, 1, body.AsSpan(4), endStream: false, Http2Frames.MinMaxFrameSize);
        });
        await test.Peer.HeadersAsync(1, endStream: true, ("x-checksum", "1"));

        await Eventually.TrueAsync(() => test.Owners.Count == 1, "the stream taken");
        var owner = (StreamLog)test.Owners.Single();
        await owner.EndedAsync();
        Assert.Equal(0, owner.Resets);
        Assert.Equal(body, owner.Body);
        Assert.Equal("1", owner.Trailers?["x-checksum"]);
    }

    [Theory]
    [InlineData("5")] // a head that ends the stream: no data, where 5 octets are declared
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("")]
    [InlineData("0, 1")]
    [InlineData("99999999999999999999")]
    public async Task RequestHeadWithABadContentLength_ResetsTheStream_ProtocolError_NoOwner(string contentLength)
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());

        await test.Peer.RequestAsync(1, "/get", endStream: true, ("content-length", contentLength));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        Assert.Empty(test.Owners);
        await test.ExpectPingAnsweredAsync();
    }

    [Fact]
    public async Task TwoContentLengthFieldsThatDiffer_ResetTheStream_ProtocolError()
    {
        await using var test = await RawSession.ServeAsync(newOwner: () => new StreamLog());

        await test.Peer.RequestAsync(1, "/upload", endStream: false, ("content-length", "3"), ("content-length", "4"));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        Assert.Empty(test.Owners);
    }

    [Fact]
    public async Task ResponseDataPastItsContentLength_ResetsOurStream_ProtocolError_OwnerTold()
    {
        await using var test = await RawSession.ConnectAsync();
        var log = new StreamLog();
        await test.Connection.RequestAsync(log, "GET", "/a", "test");
        await test.Peer.ReadUntilAsync(Http2FrameType.Headers);

        await test.Peer.HeadersAsync(1, endStream: false, (":status", "200"), ("content-length", "3"));
        await test.Peer.WriteAsync(w => Http2FrameWriter.WriteData(w, 1, "four"u8, endStream: true, Http2Frames.MinMaxFrameSize));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        await log.EndedAsync();
        Assert.Equal((1, Http2ErrorCode.ProtocolError), (log.Resets, log.ResetCode));
        Assert.Empty(log.Body);
        Assert.Equal(0, test.Connection.Connection.ActiveStreams);
    }

    [Fact]
    public async Task GetResponseHeadEndingTheStream_WithAContentLength_ResetsOurStream()
    {
        await using var test = await RawSession.ConnectAsync();
        var log = new StreamLog();
        await test.Connection.RequestAsync(log, "GET", "/a", "test");
        await test.Peer.ReadUntilAsync(Http2FrameType.Headers);

        await test.Peer.HeadersAsync(1, endStream: true, (":status", "200"), ("content-length", "1234"));

        Assert.Equal((1, Http2ErrorCode.ProtocolError), await test.Peer.ReadResetAsync());
        await log.EndedAsync();
        Assert.Equal((1, Http2ErrorCode.ProtocolError), (log.Resets, log.ResetCode));
    }

    [Theory]
    [InlineData("HEAD", "200")] // the length a GET would have had
    [InlineData("GET", "304")] // the length of what was not sent again
    public async Task ResponseWhoseContentLengthSizesNoData_EndsWithoutData_AndIsDelivered(string method, string status)
    {
        await using var test = await RawSession.ConnectAsync();
        var log = new StreamLog();
        await test.Connection.RequestAsync(log, method, "/a", "test");
        Assert.Equal(method, (await test.Peer.ReadUntilAsync(Http2FrameType.Headers)).Fields![":method"]);

        await test.Peer.HeadersAsync(1, endStream: true, (":status", status), ("content-length", "1234"));

        await log.EndedAsync();
        Assert.Equal(0, log.Resets);
        Assert.Equal((status, "1234"), (log.Head[":status"], log.Head["content-length"]));
        await Eventually.TrueAsync(() => test.Connection.Connection.ActiveStreams == 0, "the finished stream retired");
    }

    [Theory]
    [InlineData(new[] { "0" }, 0L, null)]
    [InlineData(new[] { "42" }, 42L, null)]
    [InlineData(new[] { "42, 42" }, 42L, null)]
    [InlineData(new[] { "42", "42" }, 42L, null)]
    [InlineData(new[] { "9223372036854775807" }, long.MaxValue, null)]
    [InlineData(new string[0], -1L, null)]
    [InlineData(new[] { "9223372036854775808" }, -1L, "content-length \"9223372036854775808\" is not a non-negative integer")]
    [InlineData(new[] { "+4" }, -1L, "content-length \"+4\" is not a non-negative integer")]
    [InlineData(new[] { "4," }, -1L, "content-length \"4,\" is not a non-negative integer")]
    [InlineData(new[] { "42", "43" }, -1L, "content-length has differing values, 42 and 43")]
    public void ContentLength_ParsesOneValue_OrSaysWhyItIsMalformed(string[] values, long expected, string? problem)
    {
        var fields = Kit.Fields([(":status", "200"), .. values.Select(v => ("content-length", v))]);

        Assert.Equal((expected, problem), (Http2Connection.ContentLength(fields, out var found), found));
    }
}
