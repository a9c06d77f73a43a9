using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FedMesh.Core.Common;
using FedMesh.Core.Forwarding;
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

namespace FedMesh.Core.Tests.Forwarding.Support;

/// <summary>Relays everything to one upstream except paths under <c>/kestrel</c>, and records what it reports.</summary>
internal sealed class TestRelay(MeshClient client, string prefix, TimeSpan activityTimeout, TimeSpan keepAlive, TimeSpan headTimeout)
    : Http11Relay("relay", System.Diagnostics.ActivityKind.Server, activityTimeout, keepAlive, headTimeout)
{
    public const string FailureBody = "the relay's owner says the upstream failed\n";

    public MeshClient Client => client;

    public ConcurrentQueue<(int Status, ForwarderError Error, Exception? Exception)> Completions { get; } = new();

    /// <summary>
    /// The completions, once there are at least <paramref name="count"/> (a <see cref="TimeoutException"/> if not within
    /// 10 s): a request relayed whole is reported after its response went out, so a client that has read the response
    /// may be ahead of the report.
    /// </summary>
    public async Task<(int Status, ForwarderError Error, Exception? Exception)[]> CompletionsAsync(int count)
    {
        await Eventually.ValueAsync(() => Task.FromResult(Completions.Count), n => n >= count, $"{count} relayed requests reported");
        return Completions.ToArray();
    }

    /// <summary>The owner's state of each completed request, in order: one <see cref="ConnectionState"/> per connection, reused.</summary>
    public ConcurrentQueue<(ConnectionState State, int Request)> States { get; } = new();

    protected override string FailureCode => "test-failure";

    protected override bool TryRoute(ConnectionContext connection, ref object? reusable, in RelayRequest request, out RelayTarget target)
    {
        var state = reusable as ConnectionState ?? (ConnectionState)(reusable = new ConnectionState());
        state.Requests++;
        target = new RelayTarget(client, prefix, RelayFront.Caller, state);
        return !request.Path.StartsWith("/kestrel"u8);
    }

    protected override byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started,
        System.Diagnostics.Activity? span)
    {
        var state = (ConnectionState)target.State!;
        States.Enqueue((state, state.Requests));
        Completions.Enqueue((status, error, exception));
        return System.Text.Encoding.ASCII.GetBytes(FailureBody);
    }
}

/// <summary>What <see cref="TestRelay"/> keeps in its slot for a connection: how many requests it routed there.</summary>
internal sealed class ConnectionState
{
    public int Requests { get; set; }
}

/// <summary>
/// A Kestrel front on 127.0.0.1 with a <see cref="TestRelay"/>; what the relay leaves gets a 299 from the handler. The
/// relay runs ahead of Kestrel on a shared port (the product's listeners), or as Kestrel's connection middleware.
/// </summary>
internal sealed class RelayFront : IAsyncDisposable
{
    public const string Caller = "spiffe://fedmesh.local/cluster/east/ns/default/sa/front";

    private readonly WebApplication _app;

    private RelayFront(WebApplication app, TestRelay relay, IPEndPoint endpoint)
    {
        _app = app;
        Relay = relay;
        EndPoint = endpoint;
    }

    public TestRelay Relay { get; }

    public IPEndPoint EndPoint { get; }

    public static async Task<RelayFront> StartAsync(string prefix, TimeSpan? activityTimeout = null, TimeSpan? keepAlive = null, TimeSpan? headTimeout = null,
        bool ahead = true)
    {
        var relay = new TestRelay(ForwardingFront.CreateClient(), prefix, activityTimeout ?? TimeSpan.FromSeconds(10),
            keepAlive ?? TimeSpan.FromSeconds(30), headTimeout ?? TimeSpan.FromSeconds(30));
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        if (ahead)
        {
            builder.Services.AddCleartextProtocolDetection();
            builder.WebHost.ConfigureKestrel(k => k.ListenHttp1AndH2c(new IPEndPoint(IPAddress.Loopback, 0), http1: l => l.UseRelay(() => relay)));
        }
        else
        {
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
            {
                l.Protocols = HttpProtocols.Http1;
                l.UseRelay(() => relay);
            }));
        }
        var app = builder.Build();
        app.Run(context =>
        {
            context.Response.StatusCode = 299;
            return context.Response.WriteAsync("kestrel's way");
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new RelayFront(app, relay, new IPEndPoint(IPAddress.Loopback, address.Port));
    }

    public async Task<RawHttp> ConnectAsync()
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(EndPoint);
        return new RawHttp(tcp.GetStream());
    }

    public Task StopAsync() => _app.StopAsync();

    /// <summary>Stops the server, ending its connections' grace after <paramref name="timeout"/>.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        using var stopping = new CancellationTokenSource(timeout);
        await _app.StopAsync(stopping.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(TimeSpan.FromSeconds(5));
        await _app.DisposeAsync();
        Relay.Client.Dispose();
    }
}
