using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Http2;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;
using Xunit;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// The relay's contract with its owner, with HttpClient as the caller and Kestrel (h2c) as the upstream: the owner is
/// told once how a routed request ended, with the status the caller saw, after any retries (a retried request without a
/// body was reported early, with status 0, before this was mended); a request it answers itself is not reported.
/// </summary>
public sealed class Http2RelayTests : IAsyncLifetime
{
    private WebApplication _upstream = null!;
    private MeshClient _client = null!;
    private int _resets;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2));
        _upstream = builder.Build();
        _upstream.Run(async context =>
        {
            if (context.Request.Path == "/reset-once" && Interlocked.Increment(ref _resets) == 1)
            {
                context.Abort();
                return;
            }
            if (context.Request.Path == "/silent")
                await Task.Delay(Timeout.Infinite, context.RequestAborted); // never answers
            if (context.Request.Path == "/stalls")
            {
                await context.Response.WriteAsync("part");
                await context.Response.Body.FlushAsync();
                await Task.Delay(Timeout.Infinite, context.RequestAborted); // the rest never comes
            }
            await context.Response.WriteAsync("ok");
        });
        await _upstream.StartAsync();
        _client = new MeshClient(new SocketsHttpHandler(), null, DistributedContextPropagator.Current, TimeProvider.System);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _upstream.DisposeAsync();
    }

    private string UpstreamPrefix => _upstream.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();

    [Fact]
    public async Task ARetriedRequest_IsReportedOnce_WithTheStatusTheCallerSaw_AfterItsAnswer()
    {
        var relay = new TestRelay(_client, UpstreamPrefix);
        await using var caller = Http2RelayedCaller.Start(relay);

        using var response = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/reset-once"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(1, relay.Retries);
        await Eventually.TrueAsync(() => relay.Reports.Count > 0, "the report");
        Assert.Equal([(200, ForwarderError.None)], relay.Reports);
    }

    [Fact]
    public async Task RequestsTheOwnerAnswers_AreNotReported_AndTheConnectionGoesOn()
    {
        var relay = new TestRelay(_client, UpstreamPrefix);
        await using var caller = Http2RelayedCaller.Start(relay);

        var body = new byte[1024 * 1024];
        for (var i = 0; i < 20; i++) // each answered at once, its body stopped by the answer's reset (what arrived of it is dropped)
        {
            using var refused = caller.Request(HttpMethod.Post, "/refused");
            refused.Content = new ByteArrayContent(body);
            using var answer = await caller.Http.SendAsync(refused);
            Assert.Equal(HttpStatusCode.Forbidden, answer.StatusCode);
        }
        using var response = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.TrueAsync(() => relay.Reports.Count > 0, "the routed request's report");
        Assert.Equal([(200, ForwarderError.None)], relay.Reports); // the refused ones were not reported
    }

    [Fact]
    public async Task AnUpstreamThatNeverAnswers_GetsTheCallerA504_AfterTheActivityTimeout()
    {
        var relay = new TestRelay(_client, UpstreamPrefix, activityTimeout: TimeSpan.FromSeconds(1));
        await using var caller = Http2RelayedCaller.Start(relay);

        using var response = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/silent"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Equal("test-failure", response.Headers.GetValues("x-fedmesh-error").Single());
        await Eventually.TrueAsync(() => relay.Reports.Count > 0, "the report");
        Assert.Equal([(504, ForwarderError.RequestTimedOut)], relay.Reports);
    }

    [Fact]
    public async Task AResponseThatStalls_IsResetForTheCaller_AfterTheActivityTimeout_AndOtherStreamsGoOn()
    {
        var relay = new TestRelay(_client, UpstreamPrefix, activityTimeout: TimeSpan.FromSeconds(1));
        await using var caller = Http2RelayedCaller.Start(relay);

        using var response = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/stalls"), HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64];
        Assert.Equal("part", System.Text.Encoding.ASCII.GetString(buffer, 0, await body.ReadAtLeastAsync(buffer, 4)));
        await Assert.ThrowsAnyAsync<IOException>(() => body.ReadAsync(buffer).AsTask()); // reset, not ended

        await Eventually.TrueAsync(() => relay.Reports.Count > 0, "the report");
        Assert.Equal([(200, ForwarderError.RequestTimedOut)], relay.Reports);
        using var next = await caller.Http.SendAsync(caller.Request(HttpMethod.Get, "/"));
        Assert.Equal("ok", await next.Content.ReadAsStringAsync());
    }

    /// <summary>Routes every request to the upstream as replayable, once retried, but answers /refused itself.</summary>
    private sealed class TestRelay(MeshClient client, string prefix, TimeSpan? activityTimeout = null)
        : Http2Relay("test", ActivityKind.Server, activityTimeout ?? TimeSpan.FromSeconds(10))
    {
        public int Retries;

        public List<(int Status, ForwarderError Error)> Reports { get; } = [];

        protected override string FailureCode => "test-failure";

        protected override bool TryRoute(ConnectionContext connection, in Http2RelayRequest request, out RelayTarget target, out RelayAnswer answer)
        {
            target = new RelayTarget(client, prefix.TrimEnd('/'), null, null) { Replayable = true };
            answer = new RelayAnswer(403, "refused", "refused\n"u8.ToArray());
            return !request.Path.SequenceEqual("/refused"u8);
        }

        protected override bool TryRetry(ref RelayTarget target, int status, ForwarderError error, Exception? exception) =>
            Interlocked.Increment(ref Retries) == 1;

        protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span)
        {
            lock (Reports)
                Reports.Add((status, error));
            return "failed\n"u8.ToArray();
        }
    }
}
