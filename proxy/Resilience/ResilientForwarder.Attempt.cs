using System.Runtime.CompilerServices;
using FedMesh.Proxy.Forwarding;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Resilience;

internal sealed partial class ResilientForwarder
{
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<AttemptOutcome> AttemptAsync(ForwardRequest request)
    {
        var context = request.Context;
        if (request.Attempts > 0)
            PrepareRetry(request);
        if (!request.Next())
            return new AttemptOutcome(AttemptKind.NoEndpoint, request);

        var endpoint = request.Endpoint!;
        var state = endpoint.State;
        var started = state.Load.Start();
        ForwarderError error;
        try
        {
            error = await _forwarder.SendAsync(context, endpoint.DestinationPrefix, endpoint.Invoker, UpstreamVersion.For(context.Request),
                endpoint.Transformer, state.Evicted).ConfigureAwait(false);
        }
        finally
        {
            state.Load.End(started);
        }
        request.Error = error;
        var now = _time.GetTimestamp();
        // Every attempt is a request to that backend: the stats pipeline counts each.
        request.Route.StatsCell(request.Backend, endpoint).Record(
            error != ForwarderError.None ? StatusCodes.Status502BadGateway : request.HeldBackStatus != 0 ? request.HeldBackStatus : context.Response.StatusCode,
            _time.GetElapsedTime(started, now).TotalMilliseconds);
        if (error == ForwarderError.None)
        {
            var status = request.HeldBackStatus != 0 ? request.HeldBackStatus : context.Response.StatusCode;
            if (status >= 500)
                state.Accrual.OnFailure(now);
            else
                state.Accrual.OnSuccess();
            return new AttemptOutcome(request.HeldBackStatus != 0 ? AttemptKind.HeldBack : AttemptKind.Done, request);
        }
        if (context.RequestAborted.IsCancellationRequested)
            return new AttemptOutcome(AttemptKind.Done, request);
        if (state.IsEvicted)
        {
            request.Error = ForwarderError.Request; // not the client's cancellation: answer it if no retry follows
            return new AttemptOutcome(AttemptKind.Evicted, request);
        }
        if (error is not (ForwarderError.RequestBodyClient or ForwarderError.RequestBodyCanceled))
            state.Accrual.OnFailure(now);
        return new AttemptOutcome(context.Response.HasStarted ? AttemptKind.Done : AttemptKind.Failed, request);
    }

    private static void PrepareRetry(ForwardRequest request)
    {
        var context = request.Context;
        request.HeldBackStatus = 0;
        context.Response.Clear(); // the failed attempt set a status (and maybe headers); nothing was sent
        if (context.Request.Body.CanSeek)
            context.Request.Body.Position = 0;
        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
