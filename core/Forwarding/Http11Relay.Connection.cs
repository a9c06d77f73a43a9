using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

// A client connection's loop: its requests' heads read and prepared, each relayed request's attempts made in the loop
// itself (so a request waiting for its upstream waits in the connection's state machine), and the rest handed to Kestrel.
public abstract partial class Http11Relay
{
    /// <summary>
    /// Relays <paramref name="connection"/>'s plain requests until it closes, or hands it, from the first request it
    /// does not take, to <paramref name="next"/> (Kestrel) and returns. <paramref name="closing"/> asks it to close: the
    /// server is stopping; between requests it closes at once. The caller disposes of the connection unless it was handed on.
    /// </summary>
    public async Task RunAsync(ConnectionContext connection, ConnectionDelegate next, CancellationToken closing)
    {
        using var exchange = new RelayExchange(connection);
        using var wait = new HeadWait(exchange.Input, closing);
        while (!closing.IsCancellationRequested)
        {
            // A head has its timeout from its first byte on (however slowly the rest trickles in); an idle connection the keep-alive.
            var left = exchange.HeadSince == 0 ? _keepAlive : _headTimeout - Stopwatch.GetElapsedTime(exchange.HeadSince);
            if (left <= TimeSpan.Zero || !wait.Begin(left))
                return;
            var read = await exchange.Input.ReadAsync().ConfigureAwait(false);
            if (!wait.Finish())
                return; // idle past the keep-alive, a head that never finished, or the server stopping: closed, as Kestrel closes them
            var buffer = read.Buffer;
            if (read.IsCanceled)
            {
                exchange.Input.AdvanceTo(buffer.Start); // cancelled by something else than the wait: read again
                continue;
            }
            var step = Prepare(exchange, connection, buffer, read.IsCompleted, out var target);
            if (step == Step.MoreHead)
            {
                if (exchange.HeadSince == 0 && !buffer.IsEmpty)
                    exchange.HeadSince = Stopwatch.GetTimestamp();
                exchange.Input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }
            if (step == Step.Closed)
            {
                exchange.Input.AdvanceTo(buffer.End);
                return;
            }
            if (step == Step.Kestrel)
            {
                exchange.Input.AdvanceTo(buffer.Start); // nothing consumed: Kestrel reads the request from its first byte
                wait.Dispose(); // Kestrel keeps its own timeouts; no cancelled read of the wait's may reach it
                await next(connection).ConfigureAwait(false);
                return;
            }
            exchange.HeadSince = 0;

            // The exchange: the request sent, attempt by attempt, and its answer or its failure reported. It runs in this
            // loop rather than in an async method of its own, so that a request waiting for its upstream waits in this
            // method's state machine, made once per connection, instead of in a box of its own for each request.
            var started = Stopwatch.GetTimestamp();
            // The body in hand: what came with the head when it is small, and all of it when the request may be sent again.
            var inHand = exchange.BodyLength <= InlineBody || target.Replayable ? (int)Math.Min(exchange.BodyLength, exchange.Arrived) : 0;
            buffer.Slice(exchange.HeadLength, inHand).CopyTo(exchange.BodyBuffer(target.Replayable ? (int)exchange.BodyLength : inHand));
            exchange.BodyInHand = inHand;
            exchange.Input.AdvanceTo(buffer.GetPosition(exchange.HeadLength + inHand));
            var bodyLeft = exchange.BodyLength - inHand;
            if (bodyLeft > 0 && target.Replayable)
            {
                try
                {
                    await ReadBodyAsync(exchange, bodyLeft).ConfigureAwait(false);
                }
                catch (MeshForwarder.ClientBodyException e)
                {
                    Finish(exchange, target, 502, exchange.Closed.IsCancellationRequested ? ForwarderError.RequestBodyCanceled : ForwarderError.RequestBodyClient,
                        e.InnerException ?? e, started);
                    exchange.Abort();
                    return;
                }
                bodyLeft = 0;
            }
            var replayable = bodyLeft == 0;
            exchange.Build(target);
            var fresh = false;
            bool keepOpen; // whether the client connection can carry another request after this one
            while (true)
            {
                var stage = MeshForwarder.Stage.Connect;
                Http11Pool? pool = null;
                Http11Connection? upstream = null;
                var headWritten = false;
                try
                {
                    pool = target.Client.PoolFor(target.Prefix);
                    upstream = fresh
                        ? await pool.ConnectAsync(exchange.Closed).ConfigureAwait(false)
                        : await pool.RentAsync(verify: !replayable, exchange.Closed).ConfigureAwait(false);
                    upstream.Begin(exchange.Closed, target.Abandoned, _activityTimeout);
                    stage = MeshForwarder.Stage.Send;
                    await upstream.Stream.WriteAsync(exchange.OutgoingMemory).ConfigureAwait(false);
                    if (bodyLeft > 0)
                    {
                        stage = MeshForwarder.Stage.SendBody;
                        await SendBodyAsync(exchange, upstream, bodyLeft).ConfigureAwait(false);
                        bodyLeft = 0;
                    }
                    upstream.Touch();
                    stage = MeshForwarder.Stage.AwaitResponse;
                    (int Status, bool Http10, int HeadLength)? taken;
                    while ((taken = MeshForwarder.TakeResponseHead(upstream)) is null)
                    {
                        if (!upstream.Filled(await upstream.ReadMoreAsync().ConfigureAwait(false)))
                            throw MeshForwarder.ResponseHeadCutShort(upstream);
                    }
                    var (status, http10, headLength) = taken.Value;
                    var framing = MeshForwarder.ReadFields(upstream.Buffer.AsSpan(upstream.Start, headLength), status, http10,
                        exchange.IsHead ? "HEAD" : "GET", upstream);
                    if (target.Replayable && !AcceptResponse(target, status))
                    {
                        // Held back: dropped (kept on its connection when small), then the owner's next attempt.
                        upstream.Start += headLength;
                        pool.Return(upstream, await MeshForwarder.DropAsync(upstream, framing).ConfigureAwait(false));
                        if (TryRetry(ref target, status, ForwarderError.None, null))
                        {
                            exchange.Build(target);
                            continue;
                        }
                        keepOpen = await FailAsync(exchange, target, ForwarderError.Request,
                            new HttpRequestException($"the upstream's {status} was held back for a retry that did not follow"), started).ConfigureAwait(false);
                        break;
                    }
                    stage = MeshForwarder.Stage.ResponseBody;
                    headWritten = true;
                    keepOpen = await CopyResponseAsync(exchange, upstream, status, headLength, framing, target.ResponseField).ConfigureAwait(false);
                    pool.Return(upstream, framing.KeepAlive && upstream.Start == upstream.End && framing.Framing != MeshForwarder.Framing.UntilClose);
                    Finish(exchange, target, status, ForwarderError.None, null, started);
                    break;
                }
                catch (Exception e)
                {
                    var reason = upstream?.Aborted ?? AbortReason.None;
                    if (upstream is not null)
                        pool!.Close(upstream);
                    if (!fresh && replayable && MeshForwarder.IsStaleReuse(upstream, reason, stage, e) && !exchange.Closed.IsCancellationRequested)
                    {
                        fresh = true; // a reused connection the upstream had closed: once more on a new one
                        continue;
                    }
                    fresh = false;
                    var callerLeft = reason == AbortReason.CallerLeft || exchange.Closed.IsCancellationRequested;
                    var error = MeshForwarder.Classify(stage, reason, e, callerLeft);
                    var cause = MeshForwarder.Cause(e);
                    if (headWritten || callerLeft || e is MeshForwarder.ClientBodyException)
                    {
                        // Part of the response is out, or the client is gone: the connection cannot carry on.
                        Finish(exchange, target, 502, error, cause, started); // counted as failed, as on Kestrel's way
                        exchange.Abort();
                        return;
                    }
                    if (replayable && TryRetry(ref target, 0, error, cause))
                    {
                        exchange.Build(target);
                        continue;
                    }
                    if (bodyLeft > 0)
                        exchange.CloseAfter = true; // the rest of the body is still on the connection
                    keepOpen = await FailAsync(exchange, target, error, cause, started).ConfigureAwait(false);
                    break;
                }
            }
            if (!keepOpen)
                return;
        }
    }
}
