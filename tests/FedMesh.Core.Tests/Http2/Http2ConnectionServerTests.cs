using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// <see cref="Http2Connection"/> as the server, with .NET's HttpClient as its peer (HTTP/2 with prior knowledge on
/// loopback): each stream's owner is an <see cref="EchoOwner"/>, so what comes back proves the request's head and body
/// got through whole, and the response's head, body and trailers did too.
/// </summary>
public sealed class Http2ConnectionServerTests
{
    [Fact]
    public async Task Get_IsAnswered_WithEchoAndTrailers()
    {
        await using var server = EchoServer.Start();

        using var response = await server.SendAsync(HttpMethod.Get, "/hello?x=1", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("GET /hello?x=1", Assert.Single(response.Headers.GetValues("x-echo")));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("done", Assert.Single(response.TrailingHeaders.GetValues("x-trailer")));
        await server.ExpectAllSentAsync(1);
    }

    [Fact]
    public async Task Post300KB_EchoesByteExact_OurSendWaitingForTheClientsWindowUpdates()
    {
        await using var server = EchoServer.Start();
        var body = Kit.Pattern(300 * 1024);

        using var response = await server.SendAsync(HttpMethod.Post, "/upload", body);

        Assert.Equal("POST /upload", Assert.Single(response.Headers.GetValues("x-echo")));
        Assert.Equal(body, await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("done", Assert.Single(response.TrailingHeaders.GetValues("x-trailer")));
        await server.ExpectAllSentAsync(1);
    }

    [Fact]
    public async Task TwentyConcurrentRequests_OnTheOneConnection_EachEchoedWhole()
    {
        await using var server = EchoServer.Start();
        var bodies = Enumerable.Range(0, 20).Select(i => Kit.Pattern(10_000 + 3_000 * i, seed: i)).ToArray();

        var responses = await Task.WhenAll(bodies.Select((body, i) => server.SendAsync(i % 4 == 0 ? HttpMethod.Get : HttpMethod.Post, $"/r/{i}", i % 4 == 0 ? null : body)));

        for (var i = 0; i < responses.Length; i++)
        {
            using var response = responses[i];
            Assert.Equal($"{(i % 4 == 0 ? "GET" : "POST")} /r/{i}", Assert.Single(response.Headers.GetValues("x-echo")));
            Assert.Equal(i % 4 == 0 ? [] : bodies[i], await response.Content.ReadAsByteArrayAsync());
            Assert.Equal("done", Assert.Single(response.TrailingHeaders.GetValues("x-trailer")));
        }
        await server.ExpectAllSentAsync(20); // every stream was accepted by the one connection
    }

    /// <summary>An HttpClient and, on the one connection it opened, our server connection with an echo owner per stream.</summary>
    private sealed class EchoServer : IAsyncDisposable
    {
        private readonly TcpListener _listener;
        private readonly HttpClient _client;
        private readonly Uri _base;
        private readonly ConcurrentQueue<EchoOwner> _owners = new();
        private readonly Task<RunningConnection> _connection;

        private EchoServer(TcpListener listener)
        {
            _listener = listener;
            _base = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}");
            _client = new HttpClient(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = Eventually.DefaultTimeout })
            {
                Timeout = Eventually.DefaultTimeout,
            };
            _connection = AcceptAsync();
        }

        public static EchoServer Start()
        {
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return new EchoServer(listener);
        }

        public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[]? body)
        {
            var request = new HttpRequestMessage(method, new Uri(_base, path))
            {
                Version = HttpVersion.Version20,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact,
                Content = body is null ? null : new ByteArrayContent(body),
            };
            using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
            return await _client.SendAsync(request, deadline.Token); // the whole body read, trailers with it
        }

        /// <summary>The connection took exactly <paramref name="streams"/> streams, each owner's sends finished, and none was reset.</summary>
        public async Task ExpectAllSentAsync(int streams)
        {
            var connection = (await _connection.WaitAsync(Eventually.DefaultTimeout)).Connection;
            Assert.Equal(streams, _owners.Count);
            foreach (var owner in _owners)
            {
                await owner.Sent.WaitAsync(Eventually.DefaultTimeout);
                Assert.False(owner.Reset.IsCompleted, "a stream was reset");
            }
            await Eventually.TrueAsync(() => connection.ActiveStreams == 0, "every finished stream retired");
            Assert.False(_listener.Pending(), "HttpClient opened a second connection");
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose(); // closes its connection: our read loop must see the end and return
            var connection = await _connection.WaitAsync(Eventually.DefaultTimeout);
            await connection.EndedAsync();
            Assert.True(connection.Connection.IsClosed);
            await connection.DisposeAsync();
            _listener.Stop();
        }

        private async Task<RunningConnection> AcceptAsync()
        {
            using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
            var socket = await _listener.AcceptSocketAsync(deadline.Token);
            return RunningConnection.Server(socket, _ =>
            {
                var owner = new EchoOwner();
                _owners.Enqueue(owner);
                return owner;
            });
        }
    }
}
