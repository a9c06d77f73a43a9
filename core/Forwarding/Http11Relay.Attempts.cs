using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

/// <summary>Where a relayed request goes, as its owner decided from the head: the upstream and the caller it is sent as.</summary>
/// <param name="Caller">The <c>x-fedmesh-caller</c> sent upstream in place of any the request had; null passes the request's own on.</param>
/// <param name="State">The owner's own: what <see cref="Http11Relay.Completed"/> needs to count and report the request.</param>
public readonly record struct RelayTarget(MeshClient Client, string Prefix, string? Caller, object? State)
{
    /// <summary>The Host sent upstream; null keeps the client's.</summary>
    public string? Host { get; init; }

    /// <summary>A field line, CRLF included, added to the response head (the proxy's <c>x-fedmesh-upstream-cluster</c>).</summary>
    public byte[]? ResponseField { get; init; }

    /// <summary>Abandons the exchange when cancelled (the endpoint left discovery).</summary>
    public CancellationToken Abandoned { get; init; }

    /// <summary>
    /// The request may be sent again (see <see cref="Http11Relay.TryRetry"/>): its body, which the owner made sure is
    /// at most <see cref="Http11Relay.MaxReplayableBody"/>, is read whole before the first attempt.
    /// </summary>
    public bool Replayable { get; init; }
}

// The exchange: the request sent, attempt by attempt, its answer or its failure reported.
public abstract partial class Http11Relay
{
    /// <summary>
    /// Sends the prepared request upstream and its response back; false when the client connection must close
    /// (asked for, or the exchange failed part way).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> RelayAsync(RelayExchange exchange, RelayTarget target, ReadOnlySequence<byte> buffer)
    {
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
                return false;
            }
            bodyLeft = 0;
        }
        var replayable = bodyLeft == 0;
        exchange.Build(target);
        var fresh = false;
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
                    return await FailAsync(exchange, target, ForwarderError.Request,
                        new HttpRequestException($"the upstream's {status} was held back for a retry that did not follow"), started).ConfigureAwait(false);
                }
                stage = MeshForwarder.Stage.ResponseBody;
                headWritten = true;
                var keepOpen = await CopyResponseAsync(exchange, upstream, status, headLength, framing, target.ResponseField).ConfigureAwait(false);
                pool.Return(upstream, framing.KeepAlive && upstream.Start == upstream.End && framing.Framing != MeshForwarder.Framing.UntilClose);
                Finish(exchange, target, status, ForwarderError.None, null, started);
                return keepOpen;
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
                    return false;
                }
                if (replayable && TryRetry(ref target, 0, error, cause))
                {
                    exchange.Build(target);
                    continue;
                }
                if (bodyLeft > 0)
                    exchange.CloseAfter = true; // the rest of the body is still on the connection
                return await FailAsync(exchange, target, error, cause, started).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads the rest of a replayable request's body into the exchange.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ReadBodyAsync(RelayExchange exchange, long left)
    {
        while (left > 0)
        {
            var piece = await NextBodyPieceAsync(exchange, left).ConfigureAwait(false);
            piece.CopyTo(exchange.Body.AsSpan(exchange.BodyInHand));
            exchange.BodyInHand += (int)piece.Length;
            left -= piece.Length;
            exchange.Input.AdvanceTo(piece.End);
        }
    }

    /// <summary>The next piece of the client's body that has arrived (at most <paramref name="left"/> bytes); the caller advances past it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<ReadOnlySequence<byte>> NextBodyPieceAsync(RelayExchange exchange, long left)
    {
        ReadResult read;
        try
        {
            read = await exchange.Input.ReadAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw new MeshForwarder.ClientBodyException(e);
        }
        var buffer = read.Buffer;
        if (buffer.IsEmpty && (read.IsCompleted || read.IsCanceled))
            throw new MeshForwarder.ClientBodyException(new IOException($"the client closed the connection {left} bytes before the end of the body its Content-Length announced"));
        return buffer.Slice(0, Math.Min(left, buffer.Length));
    }

    /// <summary>Reports the request to the owner, then ends its span.</summary>
    private byte[] Finish(RelayExchange exchange, in RelayTarget target, int status, ForwarderError error, Exception? exception, long started)
    {
        var span = exchange.Span;
        exchange.Span = null;
        try
        {
            return Completed(target, status, error, exception, started, span);
        }
        finally
        {
            span?.Dispose();
        }
    }

    /// <summary>Streams the rest of a Content-Length body from the client to the upstream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendBodyAsync(RelayExchange exchange, Http11Connection upstream, long left)
    {
        while (left > 0)
        {
            var piece = await NextBodyPieceAsync(exchange, left).ConfigureAwait(false);
            foreach (var segment in piece)
                await upstream.Stream.WriteAsync(segment).ConfigureAwait(false);
            upstream.Touch();
            left -= piece.Length;
            exchange.Input.AdvanceTo(piece.End);
        }
    }

    /// <summary>Answers the upstream's failure before any response: a 502, or a 504 on a timeout, with the owner's body.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FailAsync(RelayExchange exchange, RelayTarget target, ForwarderError error, Exception exception, long started)
    {
        var status = error == ForwarderError.RequestTimedOut ? 504 : 502;
        var body = Finish(exchange, target, status, error, exception, started);
        var writer = new HeadWriter(exchange.Output, body.Length + 256);
        writer.Append(status == 504 ? "HTTP/1.1 504 Gateway Timeout\r\n"u8 : "HTTP/1.1 502 Bad Gateway\r\n"u8);
        writer.Append("Content-Type: text/plain; charset=utf-8\r\nContent-Length: "u8);
        writer.Append(body.Length);
        writer.Append("\r\nx-fedmesh-error: "u8);
        writer.Append(FailureCode);
        writer.Append("\r\n"u8);
        writer.Append(HttpDate.Field);
        if (exchange.CloseAfter)
            writer.Append("Connection: close\r\n"u8);
        writer.Append("\r\n"u8);
        writer.Append(body);
        writer.Commit();
        try
        {
            await Http11Body.FlushAsync(exchange.Output).ConfigureAwait(false);
        }
        catch (MeshForwarder.ClientGoneException)
        {
            return false;
        }
        return !exchange.CloseAfter;
    }
}
