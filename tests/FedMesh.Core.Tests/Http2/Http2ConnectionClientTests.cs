using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// <see cref="Http2Connection"/> as the client, with Kestrel (HTTP/2 only, loopback) as its peer: request heads and
/// bodies out, response heads, data and trailers in, flow-control credit given back, and a reset heard.
/// </summary>
public sealed class Http2ConnectionClientTests
{
    private const int ThreeMB = 3 * 1024 * 1024;

    [Fact]
    public async Task Get_HeadDataAndTrailers_Arrive()
    {
        await using var kestrel = await Kestrel.StartAsync();
        await using var client = await kestrel.ConnectAsync();

        var log = await client.ExchangeAsync("GET", "/text?q=1", kestrel.Authority);

        Assert.Equal(0, log.Resets);
        Assert.Equal("200", log.Head[":status"]);
        Assert.Equal("GET /text?q=1", log.Head["x-echo"]);
        Assert.Equal("hello from kestrel"u8.ToArray(), log.Body);
        Assert.Equal("done", log.Trailers?["x-trailer"]);
        await Eventually.TrueAsync(() => client.Connection.ActiveStreams == 0, "the finished stream retired");
    }

    [Fact]
    public async Task ThreeMBResponse_PastOurStreamAndConnectionWindows_ArrivesWhole()
    {
        await using var kestrel = await Kestrel.StartAsync();
        // Both windows 1 MiB: without credit given back as data is consumed, the response stalls at 1 MiB.
        await using var client = await kestrel.ConnectAsync(new Http2ConnectionOptions { StreamWindow = 1 << 20, ConnectionWindow = 1 << 20 });

        var log = await client.ExchangeAsync("GET", "/big", kestrel.Authority);

        Assert.Equal(0, log.Resets);
        Assert.Equal(Kit.Pattern(ThreeMB), log.Body);
        Assert.Equal("done", log.Trailers?["x-trailer"]);
    }

    [Fact]
    public async Task Post_BodyEchoedByKestrel_ByteExact()
    {
        await using var kestrel = await Kestrel.StartAsync();
        await using var client = await kestrel.ConnectAsync();
        var body = Kit.Pattern(1_500_000, seed: 5); // more than Kestrel's initial stream window: our send waits for its updates

        var log = await client.ExchangeAsync("POST", "/echo", kestrel.Authority, body);

        Assert.Equal(0, log.Resets);
        Assert.Equal("POST /echo", log.Head["x-echo"]);
        Assert.Equal(body, log.Body);
        Assert.Equal("done", log.Trailers?["x-trailer"]);
    }

    [Fact]
    public async Task TwentyConcurrentStreams_EachGetsItsOwnEcho()
    {
        await using var kestrel = await Kestrel.StartAsync();
        await using var client = await kestrel.ConnectAsync();
        var bodies = Enumerable.Range(0, 20).Select(i => Kit.Pattern(20_000 + 5_000 * i, seed: i)).ToArray();

        var logs = await Task.WhenAll(bodies.Select((body, i) => client.ExchangeAsync("POST", $"/echo?n={i}", kestrel.Authority, body)));

        for (var i = 0; i < logs.Length; i++)
        {
            Assert.Equal(0, logs[i].Resets);
            Assert.Equal($"POST /echo?n={i}", logs[i].Head["x-echo"]);
            Assert.Equal(bodies[i], logs[i].Body);
            Assert.Equal("done", logs[i].Trailers?["x-trailer"]);
        }
        Assert.Equal(20, logs.Select(log => log.Stream!.Id).Distinct().Count());
        await Eventually.TrueAsync(() => client.Connection.ActiveStreams == 0, "every finished stream retired");
    }

    [Fact]
    public async Task HeaderBlocksPastAFrame_GoAsContinuations_AndComeBackWhole()
    {
        await using var kestrel = await Kestrel.StartAsync();
        await using var client = await kestrel.ConnectAsync();
        var values = Enumerable.Range(0, 3).Select(i => Convert.ToBase64String(Kit.Pattern(6_750, seed: i)).TrimEnd('=')).ToArray(); // 9,000 characters each
        var log = new StreamLog();
        Assert.True(client.Connection.TryOpenStream(log, out var stream));
        var head = Kit.Fields((":method", "GET"), (":scheme", "http"), (":authority", kestrel.Authority), (":path", "/headers"),
            ("x-big-0", values[0]), ("x-big-1", values[1]), ("x-big-2", values[2]));

        await stream.SendHeadersAsync(head, endStream: true);
        await log.EndedAsync();

        Assert.Equal("200", log.Head[":status"]);
        Assert.Equal(values, new[] { log.Head["x-big-0"], log.Head["x-big-1"], log.Head["x-big-2"] });
    }

    [Fact]
    public async Task HandlerAborts_OwnerHearsReset_ConnectionGoesOn()
    {
        await using var kestrel = await Kestrel.StartAsync();
        await using var client = await kestrel.ConnectAsync();

        var aborted = await client.ExchangeAsync("GET", "/abort", kestrel.Authority);

        Assert.Equal(1, aborted.Resets);
        Assert.NotEqual(Http2ErrorCode.NoError, aborted.ResetCode);
        Assert.Empty(aborted.Blocks);

        var next = await client.ExchangeAsync("GET", "/text", kestrel.Authority);
        Assert.Equal("200", next.Head[":status"]);
        Assert.Equal(1, aborted.Resets);
    }

    [Fact]
    public async Task DisposedMidDownload_RunReturnsCleanly_OwnerHearsResetOnce()
    {
        await using var kestrel = await Kestrel.StartAsync();
        var client = await kestrel.ConnectAsync();
        var log = new StreamLog(consume: false); // no credit given back: the download stops at our 1 MiB window, still open
        await client.RequestAsync(log, "GET", "/big", kestrel.Authority);
        await Eventually.TrueAsync(() => log.Body.Length > 0, "the download under way");

        await client.DisposeAsync(); // the read loop returns, throws nothing, and left the transport as a pipe must be left

        Assert.Equal((1, Http2ErrorCode.Cancel), (log.Resets, log.ResetCode));
        Assert.IsType<ObjectDisposedException>(log.ResetError);
    }

    /// <summary>Kestrel with HTTP/2 only on a loopback port, and the few endpoints the tests ask for.</summary>
    private sealed class Kestrel(WebApplication app, int port) : IAsyncDisposable
    {
        public string Authority => $"127.0.0.1:{port}";

        public static async Task<Kestrel> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
            var app = builder.Build();
            app.Run(AnswerAsync);
            await app.StartAsync();
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            return new Kestrel(app, address.Port);
        }

        public async Task<RunningConnection> ConnectAsync(Http2ConnectionOptions? options = null)
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
            await socket.ConnectAsync(IPAddress.Loopback, port, deadline.Token);
            return RunningConnection.Client(socket, options);
        }

        public async ValueTask DisposeAsync()
        {
            using var deadline = new CancellationTokenSource(Eventually.DefaultTimeout);
            await app.StopAsync(deadline.Token);
            await app.DisposeAsync();
        }

        private static async Task AnswerAsync(HttpContext context)
        {
            if (context.Request.Path == "/abort")
            {
                context.Abort();
                return;
            }
            context.Response.Headers["x-echo"] = $"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}";
            foreach (var (name, value) in context.Request.Headers.Where(h => h.Key.StartsWith("x-big-", StringComparison.Ordinal)))
                context.Response.Headers[name] = value;
            if (context.Request.Path == "/big")
                await context.Response.Body.WriteAsync(Kit.Pattern(ThreeMB), context.RequestAborted);
            else if (context.Request.Path == "/echo")
                await context.Request.Body.CopyToAsync(context.Response.Body, context.RequestAborted);
            else
                await context.Response.WriteAsync("hello from kestrel", context.RequestAborted);
            context.Response.AppendTrailer("x-trailer", "done");
        }
    }
}
