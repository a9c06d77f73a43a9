using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The relay over a pooled upstream connection that the upstream closes as a request's head arrives on it (no GOAWAY,
/// no answer: the stale pooled connection a client meets when the upstream closed it a moment before). A replayable
/// request is sent once more on a new connection, without asking the owner (whose own retries are off here), as the
/// HTTP/1.1 relay does after a stale reused connection; one that is not replayable gets the relay's 502. HttpClient is
/// the caller; the upstream is a raw peer.
/// </summary>
public sealed class Http2RelayResendTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARequestOnAConnectionTheUpstreamCloses_IsSentOnceMoreOnAnother_WhenReplayable(bool replayable)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new MeshClient(new SocketsHttpHandler(), null, DistributedContextPropagator.Current, TimeProvider.System);
        var relay = new OneUpstreamRelay(client, $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}", replayable);
        await using var caller = Http2RelayedCaller.Start(relay);
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);

        var first = AnswerOneAsync(listener, deadline.Token);
        using (var answered = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/first"), deadline.Token))
            Assert.Equal("/first", Assert.Single(answered.Headers.GetValues("x-path")));
        await using var stale = await first;
        var closed = CloseAtNextHeadAsync(stale);
        var second = AnswerOneAsync(listener, deadline.Token);

        using var response = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/again"), deadline.Token);
        await closed;

        await Eventually.TrueAsync(() => relay.Reports.Count == 2, "both requests' reports");
        if (replayable)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("/again", Assert.Single(response.Headers.GetValues("x-path"))); // answered on the new connection
            await (await second).DisposeAsync();
            Assert.Equal((200, ForwarderError.None), relay.Reports.Last());
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Equal((502, ForwarderError.Request), relay.Reports.Last());
            Assert.False(second.IsCompleted, "no second connection for a request that cannot be sent again");
        }
        Assert.Equal(0, relay.OwnerRetries);
    }

    /// <summary>Accepts a connection and answers its first request 200, naming its path; the connection stays open.</summary>
    private static async Task<Http2RawPeer> AnswerOneAsync(TcpListener listener, CancellationToken token)
    {
        var peer = new Http2RawPeer(await listener.AcceptSocketAsync(token));
        await peer.StartAsServerAsync();
        var request = await peer.ReadUntilAsync(Http2FrameType.Headers);
        await peer.HeadersAsync(request.Header.StreamId, endStream: true, (":status", "200"), ("x-path", request.Fields![":path"]));
        return peer;
    }

    /// <summary>Closes the connection (no GOAWAY) once the next request's head has arrived on it.</summary>
    private static async Task CloseAtNextHeadAsync(Http2RawPeer peer)
    {
        var request = await peer.ReadUntilAsync(Http2FrameType.Headers);
        Assert.Equal("/again", request.Fields![":path"]);
        await peer.DisposeAsync();
    }

    /// <summary>Routes every request to one upstream, replayable or not; its own retries are off, so only the relay's resend can send a request again.</summary>
    private sealed class OneUpstreamRelay(MeshClient client, string prefix, bool replayable) : Http2Relay("test", ActivityKind.Server, TimeSpan.FromSeconds(10))
    {
        public int OwnerRetries;

        public ConcurrentQueue<(int Status, ForwarderError Error)> Reports { get; } = new();

        protected override string FailureCode => "test-failure";

        protected override bool TryRoute(ConnectionContext connection, in Http2RelayRequest request, out RelayTarget target, out RelayAnswer answer)
        {
            target = new RelayTarget(client, prefix, null, null) { Replayable = replayable };
            answer = default;
            return true;
        }

        protected override bool TryRetry(ref RelayTarget target, int status, ForwarderError error, Exception? exception)
        {
            Interlocked.Increment(ref OwnerRetries);
            return false;
        }

        protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span)
        {
            Reports.Enqueue((status, error));
            return "failed\n"u8.ToArray();
        }
    }
}
