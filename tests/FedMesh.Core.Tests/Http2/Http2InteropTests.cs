using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The frame layer against a real peer: .NET's HttpClient speaking HTTP/2 with prior knowledge to a bare socket, whose
/// side of the conversation is only our reader and writer (and a field block written out by hand).
/// </summary>
public sealed class Http2InteropTests
{
    [Fact]
    public async Task HttpClient_SettingsFirst_AcksOurs_TakesOurResponse()
    {
        await using var exchange = await Exchange.StartAsync();
        var peer = exchange.Peer;
        Assert.Equal(Http2Frames.ConnectionPreface.ToArray(), await peer.ReadAsync(Http2Frames.ConnectionPreface.Length));

        var first = await peer.ReadFrameAsync();
        Assert.Equal(Http2FrameType.Settings, first.Header.Type);
        Assert.Equal(0, first.Header.StreamId);
        Assert.False(first.Header.Has(Http2Flags.Ack));
        var clientSettings = Http2FrameReader.ReadSettings(first.Header, Seq(first.Payload), new Http2Settings());
        Assert.False(clientSettings.EnablePush); // a client that takes no pushes says so (RFC 9113 §8.4)

        await peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteSettings(w, [new(Http2SettingId.MaxConcurrentStreams, 10), new(Http2SettingId.InitialWindowSize, 1 << 20)]);
            Http2FrameWriter.WriteSettingsAck(w);
        });

        // The request and the ACK of our settings, in whichever order the client sends them.
        var next = new List<PeerFrame>();
        while (next.Count < 2)
        {
            var frame = await peer.ReadFrameAsync();
            if (frame.Header.Type is Http2FrameType.Headers or Http2FrameType.Settings)
                next.Add(frame);
            else
                Assert.Equal(Http2FrameType.WindowUpdate, frame.Header.Type);
        }
        var request = Assert.Single(next, f => f.Header.Type == Http2FrameType.Headers);
        Assert.Equal(1, request.Header.StreamId);
        Assert.True(request.Header.Has(Http2Flags.EndHeaders | Http2Flags.EndStream));
        Assert.NotEmpty(Http2FrameReader.ReadHeaders(request.Header, Seq(request.Payload)).ToArray());
        var ack = Assert.Single(next, f => f.Header.Type == Http2FrameType.Settings);
        Assert.Equal(new Http2FrameHeader(0, Http2FrameType.Settings, Http2Flags.Ack, 0), ack.Header);

        await peer.WriteAsync(w => Http2FrameWriter.WriteHeaders(w, 1, [0x88], endStream: true, clientSettings.MaxFrameSize)); // :status: 200
        using var response = await exchange.Response.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
    }

    [Fact]
    public async Task HttpClient_TakesContinuationsAndSplitData_AnswersPing()
    {
        await using var exchange = await Exchange.StartAsync();
        var peer = exchange.Peer;
        await peer.ReadAsync(Http2Frames.ConnectionPreface.Length);
        var first = await peer.ReadFrameAsync();
        var clientSettings = Http2FrameReader.ReadSettings(first.Header, Seq(first.Payload), new Http2Settings());
        await peer.WriteAsync(w => { Http2FrameWriter.WriteSettings(w, []); Http2FrameWriter.WriteSettingsAck(w); });
        var request = await peer.ReadUntilAsync(Http2FrameType.Headers);

        await peer.WriteAsync(w => Http2FrameWriter.WritePing(w, 0x1122_3344_5566_7788));
        var pong = await peer.ReadUntilAsync(Http2FrameType.Ping);
        Assert.True(pong.Header.Has(Http2Flags.Ack));
        Assert.Equal(0x1122_3344_5566_7788UL, Http2FrameReader.ReadPing(pong.Header, Seq(pong.Payload)));

        // :status 200 (static index 8), then 200 literal fields without indexing, names and values short enough for
        // one-octet lengths (RFC 7541 §6.2.2): 21,801 octets, a HEADERS and a CONTINUATION frame at 16,384.
        var block = new List<byte> { 0x88 };
        for (var i = 0; i < 200; i++)
        {
            var name = Encoding.ASCII.GetBytes($"x-f{i:d3}");
            var value = Encoding.ASCII.GetBytes(new string((char)('a' + i % 26), 100));
            block.AddRange([0x00, (byte)name.Length, .. name, (byte)value.Length, .. value]);
        }
        var body = new byte[40_000];
        Random.Shared.NextBytes(body);
        Assert.True(body.Length <= clientSettings.InitialWindowSize);
        var maxFrameSize = clientSettings.MaxFrameSize;
        await peer.WriteAsync(w =>
        {
            Http2FrameWriter.WriteHeaders(w, request.Header.StreamId, block.ToArray(), endStream: false, maxFrameSize);
            Http2FrameWriter.WriteData(w, request.Header.StreamId, body, endStream: true, maxFrameSize);
        });

        using var response = await exchange.Response.WaitAsync(Eventually.DefaultTimeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new string('t', 100), Assert.Single(response.Headers.GetValues("x-f123")));
        Assert.Equal(new string('r', 100), Assert.Single(response.Headers.GetValues("x-f199")));
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync().WaitAsync(Eventually.DefaultTimeout));
    }

    private static ReadOnlySequence<byte> Seq(byte[] payload) => new(payload);

    /// <summary>An HttpClient request under way to a listener on 127.0.0.1, and the accepted connection it arrived on.</summary>
    private sealed class Exchange : IAsyncDisposable
    {
        private readonly HttpClient _client;
        private readonly TcpListener _listener;

        private Exchange(HttpClient client, TcpListener listener, Task<HttpResponseMessage> response, Http2RawPeer peer)
        {
            _client = client;
            _listener = listener;
            Response = response;
            Peer = peer;
        }

        public Task<HttpResponseMessage> Response { get; }

        public Http2RawPeer Peer { get; }

        public static async Task<Exchange> StartAsync()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = Eventually.DefaultTimeout });
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{port}/h2")
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            var response = client.SendAsync(request);
            using var accepting = new CancellationTokenSource(Eventually.DefaultTimeout);
            var socket = await listener.AcceptSocketAsync(accepting.Token);
            return new Exchange(client, listener, response, new Http2RawPeer(socket));
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            await Peer.DisposeAsync();
            _listener.Stop();
            // Without its client the request has ended, one way or the other: its outcome was asserted, or the test failed already.
            await Task.WhenAny(Response).WaitAsync(Eventually.DefaultTimeout);
            _ = Response.Exception;
        }
    }
}
