using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Threading.Channels;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding.Support;

/// <summary>What one call of <see cref="MeshForwarder.SendAsync(HttpContext, string, HttpMessageInvoker, ForwarderRequestConfig, HttpTransformer)"/> returned and left behind.</summary>
internal sealed record ForwardOutcome(ForwarderError Error, IForwarderErrorFeature? Feature, int Status, bool ResponseStarted, TimeSpan Elapsed);

/// <summary>
/// A real Kestrel front on 127.0.0.1, port 0, whose only handler forwards every request with <see cref="MeshForwarder"/>
/// through a <see cref="MeshClient"/>, as the proxy's handlers do. When the transformer held a response back, the
/// handler writes its own answer, as the proxy's retrying forwarder would after its last attempt.
/// </summary>
internal sealed class ForwardingFront : IAsyncDisposable
{
    public const string HandlerAnswer = "the front's own answer";

    public static readonly ForwarderRequestConfig Http11 = new()
    {
        Version = HttpVersion.Version11,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        ActivityTimeout = TimeSpan.FromSeconds(10),
    };

    private readonly WebApplication _app;
    private readonly Channel<ForwardOutcome> _outcomes = Channel.CreateUnbounded<ForwardOutcome>();

    private ForwardingFront(WebApplication app, MeshClient client, TestTransformer transformer, Uri address)
    {
        _app = app;
        Client = client;
        Transformer = transformer;
        Address = address;
        Http = new HttpClient(new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = address,
            Timeout = TimeSpan.FromSeconds(15),
        };
    }

    public Uri Address { get; }

    /// <summary>A client to the front.</summary>
    public HttpClient Http { get; }

    /// <summary>The forwarder's client to the upstream.</summary>
    public MeshClient Client { get; }

    public TestTransformer Transformer { get; }

    /// <summary>Cancels the forwarder's own token (the proxy's "endpoint evicted") for requests in flight.</summary>
    public CancellationTokenSource Abandon { get; } = new();

    /// <summary>Plain HTTP to the upstream unless <paramref name="tls"/> is given.</summary>
    public static MeshClient CreateClient(SslClientAuthenticationOptions? tls = null, TimeSpan? idleTimeout = null) =>
        PeerHandler.CreateClient(tls, TimeSpan.FromSeconds(5), idleTimeout, DistributedContextPropagator.CreateDefaultPropagator(), TimeProvider.System);

    /// <param name="bufferRequestBody">Buffers the request body before forwarding, as the proxy does for a request it may retry.</param>
    public static async Task<ForwardingFront> StartAsync(string destinationPrefix, ForwarderRequestConfig? config = null,
        TestTransformer? transformer = null, MeshClient? client = null, bool bufferRequestBody = false)
    {
        config ??= Http11;
        transformer ??= new TestTransformer();
        client ??= CreateClient();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null;
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1);
        });
        builder.Services.AddMeshForwarder();
        var app = builder.Build();
        var forwarder = app.Services.GetRequiredService<MeshForwarder>();
        ForwardingFront? front = null;
        app.Run(async context =>
        {
            var started = Stopwatch.GetTimestamp();
            if (bufferRequestBody)
                context.Request.EnableBuffering();
            var error = await forwarder.SendAsync(context, destinationPrefix, client, config, transformer, front!.Abandon.Token);
            front._outcomes.Writer.TryWrite(new ForwardOutcome(error, context.Features.Get<IForwarderErrorFeature>(), context.Response.StatusCode,
                context.Response.HasStarted, Stopwatch.GetElapsedTime(started)));
            if (error == ForwarderError.None && context.Items.ContainsKey(TestTransformer.HeldBackKey))
            {
                context.Response.Headers["x-front"] = "held-back";
                await context.Response.WriteAsync(HandlerAnswer);
            }
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        front = new ForwardingFront(app, client, transformer, address);
        return front;
    }

    /// <summary>What the handler's next forwarding call returned.</summary>
    public async Task<ForwardOutcome> NextOutcomeAsync()
    {
        using var deadline = new CancellationTokenSource(ScriptedUpstream.Deadline);
        return await _outcomes.Reader.ReadAsync(deadline.Token);
    }

    /// <summary>Sends a request, reads the whole response, and waits until the forwarder has finished with it (its connection back in the pool).</summary>
    public async Task<(HttpResponseMessage Response, string Body, ForwardOutcome Outcome)> SendAsync(HttpRequestMessage request)
    {
        var response = await Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        return (response, body, await NextOutcomeAsync());
    }

    public Task<(HttpResponseMessage Response, string Body, ForwardOutcome Outcome)> GetAsync(string target) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, target));

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        using (var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(5)))
            await _app.StopAsync(stopping.Token);
        await _app.DisposeAsync();
        Client.Dispose();
        Abandon.Dispose();
    }
}

/// <summary>A mesh hop's request changes, with knobs for the tests.</summary>
internal sealed class TestTransformer : MeshTransformer
{
    public const string HeldBackKey = "held-back";
    public const string DefaultCaller = "spiffe://fedmesh.local/cluster/east/ns/default/sa/front";

    /// <summary>The Host sent upstream; null keeps the caller's.</summary>
    public string? Host { get; init; }

    public string? CallerId { get; init; } = DefaultCaller;

    /// <summary>Which statuses reach the client; the rest are held back.</summary>
    public Func<int, bool> Accepts { get; init; } = _ => true;

    public override string UpstreamHost(HttpContext context) => Host ?? base.UpstreamHost(context);

    public override string? Caller(HttpContext context) => CallerId;

    public override bool AcceptResponse(HttpContext context, int status)
    {
        if (Accepts(status))
            return true;
        context.Items[HeldBackKey] = status;
        return false;
    }

    public override void DecorateResponse(HttpContext context) => context.Response.Headers["x-decorated"] = "yes";
}
