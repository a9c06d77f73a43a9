using System.Diagnostics;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.LoadBalancing;
using FedMesh.Proxy.Resilience;
using FedMesh.Proxy.Routing;
using FedMesh.Proxy.Tests.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Tests.Resilience;

/// <summary>
/// The relay's way keeps one <see cref="ForwardRequest"/> per client connection and starts it over for each request
/// (<see cref="ResilientForwarder.BeginRelayed"/>): nothing of one request may reach the next.
/// </summary>
public sealed class RelayedRequestTests : IDisposable
{
    private static readonly ResilienceOptions Options = new ResilienceOptions().Validated();
    private readonly ManualTimeProvider _time = new();
    private readonly MeshClient _client;
    private readonly ServiceRoute _route;
    private readonly ResilientForwarder _forwarder;

    public RelayedRequestTests()
    {
        _client = new MeshClient(new SocketsHttpHandler(), null, DistributedContextPropagator.Current, _time);
        var accrual = new AccrualSettings(Options, _time, new Random(3));
        var endpoints = new[] { Endpoint("127.0.0.1:1", accrual), Endpoint("127.0.0.1:2", accrual) };
        var set = new BackendSet("echo", "default", endpoints, new PeakEwmaBalancer(new Random(4), _time));
        _route = new ServiceRoute(set, new SingleBackendPolicy(set), new RequestStatsRecorder(), "east");
        _forwarder = new ResilientForwarder(new UnusedForwarder(), Options, new RetryBudget(Options, _time), _time);
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public void NextRequestOnTheConnection_StartsLikeANewOne_AfterOneThatFailedEverywhere()
    {
        object? slot = null;
        var first = _forwarder.BeginRelayed(ref slot, _route, retryable: true)!;
        Assert.Same(first, slot);
        Assert.True(_forwarder.ContinueRelayed(first, ForwarderError.Request, 0)); // retried on the other endpoint
        Assert.False(_forwarder.ContinueRelayed(first, ForwarderError.Request, 0)); // nowhere left to go
        first.HeldBackStatus = 503;
        first.RelayAccounted = true;
        first.LastException = new IOException("gone");

        var second = _forwarder.BeginRelayed(ref slot, _route, retryable: true)!;

        Assert.Same(first, second); // the connection's, started over
        Assert.Equal((1, 0, false, null, ForwarderError.None), (second.Attempts, second.HeldBackStatus, second.RelayAccounted, second.LastException, second.Error));
        Assert.True(second.Retryable);
        // Both endpoints are untried again: the first attempt's failure can still be retried on the other one.
        var firstEndpoint = second.Endpoint;
        Assert.True(_forwarder.ContinueRelayed(second, ForwarderError.Request, 0));
        Assert.NotSame(firstEndpoint, second.Endpoint);
    }

    [Fact]
    public void AlternativeKeptForARetryThatDidNotFollow_IsNotTheNextRequestsChoice()
    {
        object? slot = null;
        var first = _forwarder.BeginRelayed(ref slot, _route, retryable: true)!;
        var chosen = first.Endpoint!;
        Assert.True(first.HasAlternative()); // the other endpoint, kept for a retry that then did not come
        var other = _route.Self.Endpoints.Single(e => !ReferenceEquals(e, chosen));
        for (var i = 0; i < Options.ConsecutiveFailures; i++)
            other.State.Accrual.OnFailure(_time.GetTimestamp()); // and ejected since

        var second = _forwarder.BeginRelayed(ref slot, _route, retryable: true)!;

        Assert.Same(chosen, second.Endpoint); // the balancer's choice, the only open endpoint
    }

    [Fact]
    public void RequestThatFindsNoEndpoint_LeavesTheSlotsRequestForTheNext()
    {
        object? slot = null;
        var empty = new BackendSet("none", "default", [], new PeakEwmaBalancer(new Random(5), _time));
        var nowhere = new ServiceRoute(empty, new SingleBackendPolicy(empty), new RequestStatsRecorder(), "east");

        Assert.Null(_forwarder.BeginRelayed(ref slot, nowhere, retryable: false)); // Kestrel's way answers it
        var next = _forwarder.BeginRelayed(ref slot, _route, retryable: false)!;

        Assert.Same(slot, next);
        Assert.Equal((1, false), (next.Attempts, next.Retryable));
        Assert.Same(_route, next.Route);
    }

    [Fact]
    public void ReportedRequest_KeepsItsRouteNoLongerReachable_WhileItWaitsForTheConnectionsNext()
    {
        object? slot = null;
        var route = RelayOnceOnANewRoute(ref slot);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.IsType<ForwardRequest>(slot); // kept for the next request
        Assert.False(route.IsAlive); // but its route (and with it a routing table) is not kept alive by it
    }

    /// <summary>One request on a route of its own, begun and reported; the route is only weakly held afterwards.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private WeakReference RelayOnceOnANewRoute(ref object? slot)
    {
        var set = new BackendSet("echo", "default", _route.Self.Endpoints, new PeakEwmaBalancer(new Random(6), _time));
        var route = new ServiceRoute(set, new SingleBackendPolicy(set), new RequestStatsRecorder(), "east");
        var request = _forwarder.BeginRelayed(ref slot, route, retryable: true)!;
        _forwarder.EndRelayed(request, ForwarderError.None, 200);
        request.Release(); // as the relay's owner does once the request is reported
        return new WeakReference(route);
    }

    /// <summary>Kestrel's way, which these requests never take.</summary>
    private sealed class UnusedForwarder : IHttpForwarder
    {
        public ValueTask<ForwarderError> SendAsync(Microsoft.AspNetCore.Http.HttpContext context, string destinationPrefix, HttpMessageInvoker httpClient,
            ForwarderRequestConfig requestConfig, HttpTransformer transformer) =>
            throw new InvalidOperationException("the relay's way does not forward through YARP");
    }

    private UpstreamEndpoint Endpoint(string address, AccrualSettings accrual) =>
        new(address, "spiffe://test/echo", "east", null, false, _client, new UpstreamTransformer(null, "east", "spiffe://test/caller"))
        { State = new EndpointState(accrual, _time) };
}
