using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Connections;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The relay over an upstream whose SETTINGS_MAX_HEADER_LIST_SIZE a request's head passes: the head is not sent, and
/// the relay fails the request as it fails any that could not be sent (502, reported once to its owner) while the
/// upstream connection goes on. HttpClient is the caller; the upstream is a raw peer.
/// </summary>
public sealed class Http2HeaderListLimitRelayTests
{
    [Fact]
    public async Task RequestHeadPastTheUpstreamsLimit_IsNotSent_TheCallerGets502_TheOwnerIsToldOnce()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new MeshClient(new SocketsHttpHandler(), null, DistributedContextPropagator.Current, TimeProvider.System);
        var relay = new OneUpstreamRelay(client, $"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
        await using var caller = Http2RelayedCaller.Start(relay);
        using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
        var upstream = UpstreamAsync(listener, deadline.Token);

        // The first request brings the upstream's SETTINGS in (they come before its answer), and gets through.
        using (var small = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/small"), deadline.Token))
            Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        var peer = await upstream;
        await Eventually.TrueAsync(() => relay.Reports.Count == 1, "the first request's report");

        using var bigRequest = caller.Request(HttpMethod.Get, "/big");
        bigRequest.Headers.Add("x-big", new string('h', 500));
        using var big = await caller.Http.SendAsync(bigRequest, deadline.Token);

        Assert.Equal(HttpStatusCode.BadGateway, big.StatusCode);
        Assert.Equal("test-failure", Assert.Single(big.Headers.GetValues("x-fedmesh-error")));
        await Eventually.TrueAsync(() => relay.Reports.Count == 2, "the second request's report");
        var (status, error, exception) = relay.Reports.Last();
        Assert.Equal((502, ForwarderError.Request), (status, error));
        Assert.Contains("SETTINGS_MAX_HEADER_LIST_SIZE of 400", Assert.IsType<Http2HeaderListTooLargeException>(exception).Message);
        await peer.WriteAsync(w => Http2FrameWriter.WritePing(w, 5)); // the upstream's connection goes on, and saw nothing of it
        var frames = new List<PeerFrame>();
        await peer.ReadUntilAsync(Http2FrameType.Ping, frames);
        Assert.DoesNotContain(frames, f => f.Header.Type is Http2FrameType.Headers or Http2FrameType.Continuation or Http2FrameType.RstStream);
        await peer.DisposeAsync();
    }

    /// <summary>A raw upstream with a header list limit of 400 that answers the first request 200.</summary>
    private static async Task<Http2RawPeer> UpstreamAsync(TcpListener listener, CancellationToken token)
    {
        var peer = new Http2RawPeer(await listener.AcceptSocketAsync(token));
        Assert.Equal(Http2Frames.ConnectionPreface.ToArray(), await peer.ReadAsync(Http2Frames.ConnectionPreface.Length));
        await peer.WriteAsync(w => Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.MaxHeaderListSize, 400)]));
        Assert.Equal(Http2FrameType.Settings, (await peer.ReadFrameAsync()).Header.Type);
        await peer.WriteAsync(Http2FrameWriter.WriteSettingsAck);
        var request = await peer.ReadUntilAsync(Http2FrameType.Headers);
        Assert.Equal("/small", request.Fields![":path"]);
        await peer.HeadersAsync(request.Header.StreamId, endStream: true, (":status", "200"));
        return peer;
    }

    /// <summary>Routes every request to one upstream (not replayable) and records what it is told.</summary>
    private sealed class OneUpstreamRelay(MeshClient client, string prefix) : Http2Relay("test", ActivityKind.Server, TimeSpan.FromSeconds(10))
    {
        public ConcurrentQueue<(int Status, ForwarderError Error, Exception? Exception)> Reports { get; } = new();

        protected override string FailureCode => "test-failure";

        protected override bool TryRoute(ConnectionContext connection, in Http2RelayRequest request, out RelayTarget target, out RelayAnswer answer)
        {
            target = new RelayTarget(client, prefix, null, null);
            answer = default;
            return true;
        }

        protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span)
        {
            Reports.Enqueue((status, error, exception));
            return "failed\n"u8.ToArray();
        }
    }
}
