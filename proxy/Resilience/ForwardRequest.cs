using System.Diagnostics.CodeAnalysis;
using FedMesh.Proxy.Failover;
using FedMesh.Proxy.LoadBalancing;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Resilience;

/// <summary>
/// One client request on its way through the attempts: which endpoints it tried, whether it may be retried,
/// and the last endpoint and error for the error response. Set as a request feature so the response
/// transformer can hold back a 5xx that will be retried.
/// </summary>
internal sealed class ForwardRequest
{
    private TriedEndpoints _tried;
    private UpstreamEndpoint? _pending;
    private BackendSet? _pendingBackend;

    public ForwardRequest(ResilientForwarder owner, HttpContext? context, ServiceRoute route, bool retryable)
    {
        Owner = owner;
        Context = context;
        Start(route, retryable);
    }

    /// <summary>
    /// Starts the request over, as new, on <paramref name="route"/>: the relay's way keeps one per client connection,
    /// which relays one request at a time (<see cref="ResilientForwarder.BeginRelayed"/>).
    /// </summary>
    [MemberNotNull(nameof(Route), nameof(Backend))]
    public void Start(ServiceRoute route, bool retryable)
    {
        Release(); // the endpoints tried, the one kept for a retry, the last one and the last failure
        Route = route;
        Backend = route.Self;
        Retryable = retryable;
        Attempts = 0;
        Error = ForwarderError.None;
        HeldBackStatus = 0;
        RelayAccounted = false;
        LoadStarted = 0;
    }

    /// <summary>
    /// Lets go of what the request referred to (its route and routing table, endpoints, last failure) once it has been
    /// reported, so that a connection idle between requests holds none of it; <see cref="Start"/> comes before any
    /// further use.
    /// </summary>
    public void Release()
    {
        _tried = default;
        _pending = null;
        _pendingBackend = null;
        Route = null!;
        Backend = null!;
        Endpoint = null;
        LastException = null;
    }

    public ResilientForwarder Owner { get; }
    /// <summary>The request on Kestrel's way; null on the relay's (<see cref="Forwarding.OutboundRelay"/>), which sends no response before it is accepted.</summary>
    public HttpContext? Context { get; }
    public ServiceRoute Route { get; private set; }

    /// <summary>After an eviction: continue on the route of the newest routing table (the one that evicted the endpoint).</summary>
    public void Reroute(ServiceRoute? current)
    {
        if (current is not null && !ReferenceEquals(current, Route))
        {
            Route = current;
            _pending = null;
            _pendingBackend = null;
        }
    }
    public bool Retryable { get; private set; }
    public int Attempts { get; private set; }
    public BackendSet Backend { get; private set; }
    public UpstreamEndpoint? Endpoint { get; private set; }
    public ForwarderError Error { get; set; }

    /// <summary>Status of a 5xx that was held back for a retry.</summary>
    public int HeldBackStatus { get; set; }

    /// <summary>On the relay's way: the last attempt is accounted already (<see cref="ResilientForwarder.ContinueRelayed"/> said to stop).</summary>
    public bool RelayAccounted { get; set; }

    /// <summary>On the relay's way: why the last attempt that was followed by another failed (for the error answer).</summary>
    public Exception? LastException { get; set; }

    /// <summary>Chooses the endpoint of the next attempt (never one already tried); false when none is left.</summary>
    public bool Next()
    {
        var endpoint = _pending;
        var backend = _pendingBackend ?? Route.Self;
        _pending = null;
        _pendingBackend = null;
        if (endpoint is null && !Peek(out endpoint, out backend) && Attempts == 0)
            endpoint = PeakEwmaBalancer.PickAny(backend.Endpoints, ref _tried); // panic: all ejected, still try the least loaded
        if (endpoint is null)
            return false;
        _tried.Add(endpoint);
        Backend = backend;
        Endpoint = endpoint;
        Attempts++;
        return true;
    }

    /// <summary>True when another attempt has somewhere to go; that endpoint is kept for it.</summary>
    public bool HasAlternative()
    {
        if (_pending is not null)
            return true;
        if (!Peek(out var endpoint, out var backend))
            return false;
        _pending = endpoint;
        _pendingBackend = backend;
        return true;
    }

    private bool Peek(out UpstreamEndpoint? endpoint, out BackendSet backend)
    {
        if (Route.Policy is FailoverBackendPolicy failover)
            endpoint = failover.Pick(ref _tried, out backend);
        else
        {
            backend = Route.Policy.Choose();
            endpoint = backend.Pick(ref _tried);
        }
        return endpoint is not null;
    }

    /// <summary>Called by the transformer on a 5xx: true (and the retry paid for) when it should be retried instead of copied.</summary>
    public bool TryHoldBack(int status)
    {
        if (!CanRetryAgain() || !HasAlternative() || !Owner.Budget.TryWithdraw())
            return false;
        HeldBackStatus = status;
        return true;
    }

    /// <summary>Retryable, attempts left, and no byte of a response sent yet.</summary>
    public bool CanRetryAgain() => Retryable && Attempts <= Owner.MaxRetries && Context?.Response.HasStarted != true;

    /// <summary>The chosen endpoint's load, counted from <see cref="Next"/>'s choice until <see cref="EndAttempt"/>.</summary>
    public long LoadStarted { get; private set; }

    /// <summary>Counts the attempt on the chosen endpoint as begun (its load).</summary>
    public void BeginAttempt() => LoadStarted = Endpoint!.State.Load.Start();

    /// <summary>
    /// Accounts the attempt that just ended on <see cref="Endpoint"/>: its load, its request stats (every attempt
    /// is a request to that backend), and the endpoint's failure accrual. <paramref name="status"/> is the
    /// upstream's (held back or not); <paramref name="error"/> a failure before or during the response. Returns how
    /// the attempt ended, for the retry decision.
    /// </summary>
    public AttemptKind EndAttempt(ForwarderError error, int status, bool callerLeft, bool responseStarted, TimeProvider time)
    {
        var endpoint = Endpoint!;
        var state = endpoint.State;
        state.Load.End(LoadStarted);
        Error = error;
        var now = time.GetTimestamp();
        Route.StatsCell(Backend, endpoint).Record(error != ForwarderError.None ? StatusCodes.Status502BadGateway : status,
            time.GetElapsedTime(LoadStarted, now).TotalMilliseconds);
        if (error == ForwarderError.None)
        {
            if (status >= 500)
                state.Accrual.OnFailure(now);
            else
                state.Accrual.OnSuccess();
            return HeldBackStatus != 0 ? AttemptKind.HeldBack : AttemptKind.Done;
        }
        if (callerLeft)
            return AttemptKind.Done;
        if (state.IsEvicted)
        {
            Error = ForwarderError.Request; // not the client's cancellation: answer it if no retry follows
            return AttemptKind.Evicted;
        }
        if (error is not (ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled))
            state.Accrual.OnFailure(now);
        return responseStarted ? AttemptKind.Done : AttemptKind.Failed;
    }
}
