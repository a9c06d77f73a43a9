using System.Runtime.CompilerServices;
using FedMesh.Core.Forwarding;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Polly;
using Polly.Retry;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Resilience;

/// <summary>
/// Sends a request through YARP, retrying on another endpoint when that is safe: the request is
/// idempotent (or marked retryable) with a body of at most 64 KiB, the response has not started, and the
/// shared <see cref="RetryBudget"/> allows it. Retries are a Polly retry strategy whose ShouldHandle asks
/// the budget. Every attempt feeds the endpoint's peak-EWMA load and failure accrual.
/// </summary>
internal sealed partial class ResilientForwarder
{
    private readonly IHttpForwarder _forwarder;
    private readonly TimeProvider _time;
    private readonly ResilienceOptions _options;
    private readonly ResiliencePipeline<AttemptOutcome> _pipeline;

    private readonly Func<string, ServiceRoute?>? _currentRoute;

    /// <param name="currentRoute">Finds the route of an authority in the newest routing table, for requests re-routed after an eviction.</param>
    public ResilientForwarder(IHttpForwarder forwarder, ResilienceOptions options, RetryBudget budget, TimeProvider time,
        Func<string, ServiceRoute?>? currentRoute = null)
    {
        _currentRoute = currentRoute;
        _forwarder = forwarder;
        _options = options.Validated();
        _time = time;
        Budget = budget;
        _pipeline = new ResiliencePipelineBuilder<AttemptOutcome> { TimeProvider = time }
            .AddRetry(new RetryStrategyOptions<AttemptOutcome>
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetries),
                Delay = TimeSpan.Zero, // the next attempt goes to another endpoint: no reason to wait
                BackoffType = DelayBackoffType.Constant,
                UseJitter = false,
                ShouldHandle = static args => ValueTask.FromResult(args.Outcome.Result is { } outcome && ShouldRetry(outcome)),
            })
            .Build();
    }

    public RetryBudget Budget { get; }

    public int MaxRetries => _options.MaxRetries;

    /// <summary>Forwards <paramref name="context"/> along <paramref name="route"/>; the request's last state tells what happened.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ForwardRequest> ForwardAsync(HttpContext context, ServiceRoute route)
    {
        var retryable = _options.MaxRetries > 0 && RequestRetryability.IsRetryable(context.Request, _options.MaxBufferedBody);
        if (retryable && context.Request.ContentLength > 0)
            context.Request.EnableBuffering(_options.MaxBufferedBody); // in memory: the length is known to fit
        var request = new ForwardRequest(this, context, route, retryable);
        context.Features.Set(request);
        Budget.Deposit();
        // The first attempt runs outside the pipeline: most requests need no retry, and the pipeline's layers
        // of async calls cost about 4 % of the proxy's CPU per request (perf, bench/dataplane). Only when that
        // attempt should be retried does the retry strategy take over; with no delay between attempts and
        // the attempt count kept by the request itself (CanRetryAgain), the attempts are the same.
        var first = await AttemptAsync(request).ConfigureAwait(false);
        if (!ShouldRetry(first))
            return request;
        var resilience = ResilienceContextPool.Shared.Get(context.RequestAborted);
        try
        {
            await _pipeline.ExecuteAsync(static (_, r) => r.Owner.AttemptAsync(r), resilience, request).ConfigureAwait(false);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(resilience);
        }
        return request;
    }

    /// <summary>
    /// Starts a request on the relay's way (<see cref="Forwarding.OutboundRelay"/>): its first endpoint chosen, as
    /// <see cref="ForwardAsync"/> chooses it, and its attempt begun; null when there is no endpoint, or when the one
    /// chosen is not reached through a <see cref="MeshClient"/> (nothing is counted then: Kestrel's way takes it).
    /// The request is the one in <paramref name="reusable"/> (the connection's, from its last request) started over,
    /// or a new one left there.
    /// </summary>
    internal ForwardRequest? BeginRelayed(ref object? reusable, ServiceRoute route, bool retryable)
    {
        ForwardRequest request;
        if (reusable is ForwardRequest kept && ReferenceEquals(kept.Owner, this))
            (request = kept).Start(route, retryable);
        else
            reusable = request = new ForwardRequest(this, null, route, retryable);
        if (!request.Next() || request.Endpoint!.Invoker is not MeshClient)
            return null;
        Budget.Deposit();
        request.BeginAttempt();
        return request;
    }

    /// <summary>
    /// After an attempt on the relay's way that reached the client with nothing: accounts it and, when the request
    /// should go on (<see cref="ShouldRetry"/>), begins the next attempt. False ends the request.
    /// </summary>
    internal bool ContinueRelayed(ForwardRequest request, ForwarderError error, int status)
    {
        var kind = request.EndAttempt(error, status, callerLeft: false, responseStarted: false, _time);
        if (!ShouldRetry(new AttemptOutcome(kind, request)) || !request.Next() || request.Endpoint!.Invoker is not MeshClient)
            return false;
        request.HeldBackStatus = 0;
        request.BeginAttempt();
        return true;
    }

    /// <summary>Accounts the last attempt on the relay's way, which ended with the response sent (or the client gone).</summary>
    internal void EndRelayed(ForwardRequest request, ForwarderError error, int status) =>
        request.EndAttempt(error, status, callerLeft: error is ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled
            or ForwarderError.ResponseBodyCanceled, responseStarted: true, _time);

    private bool Reroute(ForwardRequest request)
    {
        if (_currentRoute is not null)
            request.Reroute(_currentRoute(request.Route.Self.DisplayName)); // "svc.ns": every table knows a service by it
        return true;
    }

    /// <summary>Whether the request goes on to another attempt after <paramref name="outcome"/> (the retry's budget taken when it does).</summary>
    internal static bool ShouldRetry(AttemptOutcome outcome)
    {
        var request = outcome.Request;
        return outcome.Kind switch
        {
            AttemptKind.HeldBack => true, // paid for when it was held back
            // Abandoned because discovery dropped the endpoint: a re-route, not load amplification; no budget.
            AttemptKind.Evicted => request.CanRetryAgain() && request.Owner.Reroute(request) && request.HasAlternative(),
            AttemptKind.Failed => request.CanRetryAgain() && request.HasAlternative() && request.Owner.Budget.TryWithdraw(),
            _ => false,
        };
    }
}
