using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

public sealed partial class MeshForwarder
{
    /// <summary>How far an exchange on a pooled connection got (the direct way's and the relay's).</summary>
    internal enum Stage { Connect, Send, SendBody, AwaitResponse, ResponseBody }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<ForwarderError> SendDirectAsync(HttpContext context, string target, MeshClient client, string destinationPrefix,
        TimeSpan activityTimeout, MeshTransformer transformer, CancellationToken abandoned)
    {
        Http11Pool pool;
        try
        {
            pool = client.PoolFor(destinationPrefix);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException or UriFormatException)
        {
            return Fail(context, ForwarderError.Request, e); // a retired client, or a destination it cannot reach: a failed request, as YARP reports it
        }
        var request = context.Request;
        var length = request.ContentLength;
        var hasBody = length > 0 || (length is null && (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false));
        // A body can be sent again only if it was buffered (the proxy buffers retryable requests).
        var replayable = !hasBody || request.Body.CanSeek;
        var bodyStart = hasBody && request.Body.CanSeek ? request.Body.Position : 0;
        var fresh = false;
        while (true)
        {
            var stage = Stage.Connect;
            Http11Connection? connection = null;
            try
            {
                connection = fresh
                    ? await pool.ConnectAsync(context.RequestAborted).ConfigureAwait(false)
                    : await pool.RentAsync(verify: !replayable, context.RequestAborted).ConfigureAwait(false);
                connection.Begin(context.RequestAborted, abandoned, activityTimeout);
                stage = Stage.Send;
                var head = WriteHead(connection, context, target, transformer, client.Propagator, chunked: hasBody && length is null);
                if (!hasBody)
                    await connection.Stream.WriteAsync(connection.Outgoing.AsMemory(0, head)).ConfigureAwait(false);
                else
                {
                    stage = Stage.SendBody;
                    await SendBodyAsync(connection, request, head, length).ConfigureAwait(false);
                }
                connection.Touch();
                stage = Stage.AwaitResponse;
                (int Status, bool Http10, int HeadLength)? taken;
                while ((taken = TakeResponseHead(connection)) is null)
                {
                    if (!connection.Filled(await connection.ReadMoreAsync().ConfigureAwait(false)))
                        throw ResponseHeadCutShort(connection);
                }
                var (status, http10, headLength) = taken.Value;
                // Still the request's stage: a malformed head fails the request, as in YARP (SocketsHttpHandler reads it before returning).
                var framing = ReadFields(connection.Buffer.AsSpan(connection.Start, headLength), status, http10, request.Method, connection);
                stage = Stage.ResponseBody;
                var reusable = await CopyResponseAsync(context, connection, status, headLength, framing, transformer).ConfigureAwait(false);
                pool.Return(connection, reusable);
                return ForwarderError.None;
            }
            catch (Exception e)
            {
                var reason = connection?.Aborted ?? AbortReason.None;
                if (connection is not null)
                    pool.Close(connection);
                if (!fresh && replayable && IsStaleReuse(connection, reason, stage, e) && !context.RequestAborted.IsCancellationRequested)
                {
                    if (hasBody)
                        request.Body.Position = bodyStart;
                    fresh = true;
                    continue;
                }
                var callerLeft = reason == AbortReason.CallerLeft || context.RequestAborted.IsCancellationRequested;
                return Fail(context, Classify(stage, reason, e, callerLeft), Cause(e));
            }
        }
    }

    /// <summary>
    /// A reused connection the upstream had closed, failing before any answer (a request that can be sent again is,
    /// once, on a new connection).
    /// </summary>
    internal static bool IsStaleReuse(Http11Connection? connection, AbortReason reason, Stage stage, Exception e) =>
        connection is { Reused: true, End: 0 } && reason is AbortReason.None or AbortReason.Closed && e is not ClientBodyException
        && stage is Stage.Send or Stage.SendBody or Stage.AwaitResponse;

    /// <summary>What a failed exchange reports, from how far it got and whether the caller left.</summary>
    internal static ForwarderError Classify(Stage stage, AbortReason reason, Exception e, bool callerLeft)
    {
        return stage switch
        {
            _ when e is ClientBodyException => callerLeft ? ForwarderError.RequestBodyCanceled : ForwarderError.RequestBodyClient,
            _ when e is ClientGoneException => callerLeft ? ForwarderError.ResponseBodyCanceled : ForwarderError.ResponseBodyClient,
            Stage.ResponseBody => callerLeft ? ForwarderError.ResponseBodyCanceled : ForwarderError.ResponseBodyDestination,
            _ when callerLeft || reason == AbortReason.Abandoned => ForwarderError.RequestCanceled,
            _ when reason == AbortReason.TimedOut || e is TimeoutException => ForwarderError.RequestTimedOut,
            Stage.SendBody => ForwarderError.RequestBodyDestination,
            _ => ForwarderError.Request,
        };
    }

    private static ForwarderError Fail(HttpContext context, ForwarderError error, Exception exception)
    {
        context.Features.Set<IForwarderErrorFeature>(new DirectForwarderError(error, exception));
        if (context.Response.HasStarted)
            context.Abort(); // part of the response is out: the client must not take it for the whole
        else
        {
            context.Response.Clear();
            context.Response.StatusCode = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        }
        return error;
    }

    /// <summary>The failure itself: the client's, under the wrapper that says which side it came from.</summary>
    internal static Exception Cause(Exception e) => e is ClientBodyException or ClientGoneException ? e.InnerException ?? e : e;

    /// <summary>Reading the request body from the client failed.</summary>
    internal sealed class ClientBodyException(Exception inner) : Exception(inner.Message, inner);

    /// <summary>Writing the response to the client failed.</summary>
    internal sealed class ClientGoneException(Exception inner) : Exception(inner.Message, inner);
}
