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
        var context = request.Context!;
        if (request.Attempts > 0)
            PrepareRetry(request);
        if (!request.Next())
            return new AttemptOutcome(AttemptKind.NoEndpoint, request);

        var endpoint = request.Endpoint!;
        request.BeginAttempt();
        ForwarderError error;
        try
        {
            error = await _forwarder.SendAsync(context, endpoint.DestinationPrefix, endpoint.Invoker, UpstreamVersion.For(context.Request),
                endpoint.Transformer, endpoint.State.Evicted).ConfigureAwait(false);
        }
        catch
        {
            endpoint.State.Load.End(request.LoadStarted);
            throw;
        }
        var status = request.HeldBackStatus != 0 ? request.HeldBackStatus : context.Response.StatusCode;
        var kind = request.EndAttempt(error, status, context.RequestAborted.IsCancellationRequested, context.Response.HasStarted, _time);
        return new AttemptOutcome(kind, request);
    }

    private static void PrepareRetry(ForwardRequest request)
    {
        var context = request.Context!;
        request.HeldBackStatus = 0;
        context.Response.Clear(); // the failed attempt set a status (and maybe headers); nothing was sent
        if (context.Request.Body.CanSeek)
            context.Request.Body.Position = 0;
        context.Features.Set<IForwarderErrorFeature>(null);
    }
}
