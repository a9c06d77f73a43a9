using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Tests.Forwarding.Support;
using FedMesh.Tests.Shared;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>A burst of concurrent requests on the direct path: they wait for the connections a few openings make, or fail together.</summary>
public sealed class MeshForwarderBurstTests
{
    private static readonly SslClientAuthenticationOptions AnyCertificate = new() { RemoteCertificateValidationCallback = (_, _, _, _) => true };

    private static string Numbered(UpstreamRequest request)
    {
        var body = $"{request.Connection.Number}-{request.Sequence}";
        return $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}";
    }

    [Fact]
    public async Task SendAsync_BurstWhileHandshakesAreSlow_FewConnectionsAndEveryRequestSucceeds()
    {
        // Each handshake takes 300 ms (a busy upstream, a far cluster); an answer takes far less. The first openings are
        // held until the whole burst waits in the pool, so that it is one burst however slowly a busy machine starts
        // the requests (one that came in after the first openings ended would rightly start an opening of its own).
        // The openings after the first wave are held until every answer is in: the first connections serve the whole
        // burst, however slowly a busy machine relays it (with 300 ms only, a third wave started when the first eight
        // had not served the queue by the time the second wave opened).
        const int burst = 40;
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate(delay: TimeSpan.FromMilliseconds(300), firstWave: Http11Pool.DefaultMaxOpening);
        await using var upstream = ScriptedUpstream.Answering(Numbered, certificate, gate.HoldAsync);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, client: ForwardingFront.CreateClient(AnyCertificate));

        var sending = Task.WhenAll(Enumerable.Range(0, burst).Select(async _ =>
        {
            using var response = await front.Http.GetAsync("/");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));
        await Eventually.TrueAsync(() => front.Client.WaitingRequests == burst, "the whole burst waiting for a connection", ScriptedUpstream.Deadline);
        gate.Open();
        var responses = await sending.WaitAsync(ScriptedUpstream.Deadline);
        var outcomes = new List<ForwardOutcome>();
        for (var i = 0; i < burst; i++)
            outcomes.Add(await front.NextOutcomeAsync());
        gate.OpenLater();
        // Openings that were under way when the queue emptied end in the idle stack.
        await Eventually.TrueAsync(() => front.Client.OpenConnections == upstream.Accepted, "every opened connection in the pool", ScriptedUpstream.Deadline);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(outcomes, o => Assert.Equal(ForwarderError.None, o.Error));
        Assert.Equal(burst, responses.Select(r => r.Body).Distinct().Count());
        Assert.InRange(gate.Peak, 1, Http11Pool.DefaultMaxOpening);
        // The first wave, and as many more started while the queue was still long when those came in.
        Assert.InRange(upstream.Accepted, Http11Pool.DefaultMaxOpening, 2 * Http11Pool.DefaultMaxOpening);
    }

    [Fact]
    public async Task SendAsync_MoreLongRequestsThanMaxOpening_EachGetsAConnection()
    {
        // The upstream answers none until all have arrived, as with long polls: none of the first connections comes
        // free for the later requests, which need openings of their own.
        var concurrent = Http11Pool.DefaultMaxOpening + 4;
        var allArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = 0;
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate(delay: TimeSpan.FromMilliseconds(200), open: true);
        await using var upstream = ScriptedUpstream.Start(async c =>
        {
            while (await c.ReadRequestAsync() is { } request)
            {
                if (Interlocked.Increment(ref arrived) == concurrent)
                    allArrived.TrySetResult();
                await allArrived.Task.WaitAsync(c.Token);
                await c.SendAsync(Numbered(request));
            }
        }, certificate, gate.HoldAsync);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, client: ForwardingFront.CreateClient(AnyCertificate));

        var responses = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(async _ =>
        {
            using var response = await front.Http.GetAsync("/");
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).WaitAsync(ScriptedUpstream.Deadline);

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(Enumerable.Range(1, concurrent).Select(n => $"{n}-1").Order(), responses.Select(r => r.Body).Order()); // one request per connection
        Assert.InRange(gate.Peak, 1, Http11Pool.DefaultMaxOpening);
    }

    [Fact]
    public async Task SendAsync_ConcurrentRequestsWhileNoOtherConnectionOpens_AllServedOnTheFirst()
    {
        const int concurrent = 5;
        using var certificate = TestCertificate.SelfSigned();
        var gate = new HandshakeGate(free: 1); // every connection after the first is accepted, and never answers its handshake
        await using var upstream = ScriptedUpstream.Answering(Numbered, certificate, gate.HoldAsync);
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, client: ForwardingFront.CreateClient(AnyCertificate));

        var bodies = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(_ => front.Http.GetStringAsync("/"))).WaitAsync(ScriptedUpstream.Deadline);

        Assert.Equal(Enumerable.Range(1, concurrent).Select(s => $"1-{s}"), bodies.Order());
        Assert.Equal(1, gate.Released);
    }

    [Fact]
    public async Task SendAsync_BurstAgainstARefusingUpstream_Every502Promptly()
    {
        const int burst = 20;
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // nothing listens there now
        await using var front = await ForwardingFront.StartAsync($"http://127.0.0.1:{port}");
        var started = Stopwatch.GetTimestamp();

        var statuses = await Task.WhenAll(Enumerable.Range(0, burst).Select(async _ =>
        {
            using var response = await front.Http.GetAsync("/");
            return response.StatusCode;
        })).WaitAsync(ScriptedUpstream.Deadline);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var outcomes = new List<ForwardOutcome>();
        for (var i = 0; i < burst; i++)
            outcomes.Add(await front.NextOutcomeAsync());

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.BadGateway, s));
        Assert.All(outcomes, o => Assert.IsAssignableFrom<SocketException>(o.Feature?.Exception));
        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(2)); // not the five-second connect timeout
        Assert.Equal(0, front.Client.OpenConnections);
    }
}
