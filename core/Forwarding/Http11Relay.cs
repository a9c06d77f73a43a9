using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using FedMesh.Core.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// Relays plain HTTP/1.1 exchanges as bytes, below Kestrel's HTTP layer (a connection middleware). The request head is
/// checked and passed upstream with only the hop's own fields changed: Host (kept or rewritten), <c>x-fedmesh-caller</c>
/// (replaced or kept), hop-by-hop fields dropped. The response head and body come back the same way. No header
/// dictionary, HttpContext or middleware is built for such a request.
/// <para>
/// The relay takes only what it knows to be plain: an origin-form HTTP/1.1 request with a Content-Length or no body,
/// whose head is well-formed and which its owner routes (<see cref="TryRoute"/>). The first request it does not take
/// (an upgrade, <c>Expect</c>, a chunked upload, HTTP/1.0, a head it finds odd, a request for the owner's own answers)
/// goes to Kestrel untouched, with the rest of the connection. Kestrel parses it from its first byte, so every refusal
/// and error page stays Kestrel's and the owner's handler's.
/// </para>
/// <para>
/// A request the owner marks replayable may take several attempts: the owner may hold a response back
/// (<see cref="AcceptResponse"/>) and names the next target after a failure or a held-back response
/// (<see cref="TryRetry"/>). Its span (while a tracer listens) covers every attempt, as on Kestrel's way.
/// </para>
/// </summary>
public abstract partial class Http11Relay
{
    /// <summary>The largest request head relayed (Kestrel's default limit); a larger one goes to Kestrel, which refuses it.</summary>
    public const int MaxHeadSize = 32 * 1024;

    /// <summary>A request body up to this size that has arrived with its head is sent in the same write.</summary>
    private const int InlineBody = 16 * 1024;

    /// <summary>The largest body of a request that can be sent again (<see cref="RelayTarget.Replayable"/>).</summary>
    public const int MaxReplayableBody = 64 * 1024;

    private readonly string _spanName;
    private readonly ActivityKind _spanKind;
    private readonly TimeSpan _activityTimeout;
    private readonly TimeSpan _keepAlive;
    private readonly TimeSpan _headTimeout;

    /// <param name="spanName">The name of each request's span (<see cref="MeshTracing"/>) while a tracer listens.</param>
    /// <param name="spanKind">Server for a listener in front of a workload (gateway, inbound), Client for an app's outbound hop.</param>
    /// <param name="activityTimeout">An exchange is abandoned after this long without a byte moving either way.</param>
    /// <param name="keepAlive">An idle client connection is closed after this long (Kestrel's KeepAliveTimeout).</param>
    /// <param name="headTimeout">A request head must arrive whole within this long (Kestrel's RequestHeadersTimeout).</param>
    protected Http11Relay(string spanName, ActivityKind spanKind, TimeSpan activityTimeout, TimeSpan keepAlive, TimeSpan headTimeout)
    {
        _spanName = spanName;
        _spanKind = spanKind;
        _activityTimeout = activityTimeout;
        _keepAlive = keepAlive;
        _headTimeout = headTimeout;
    }

    /// <summary>The connection middleware: relays what it can, then hands the connection to <paramref name="next"/>.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => connection => RunAsync(connection, next);

    /// <summary>
    /// False leaves the request, and the rest of its connection, to Kestrel. <paramref name="reusable"/> is the
    /// connection's slot for the owner's per-request state: null on its first request, then whatever the owner left
    /// there. A connection relays one request at a time and the relay lets go of <see cref="RelayTarget.State"/> after
    /// <see cref="Completed"/>, so an owner may keep one state object there and reset it for each request instead of
    /// allocating one per request.
    /// </summary>
    protected abstract bool TryRoute(ConnectionContext connection, ref object? reusable, in RelayRequest request, out RelayTarget target);

    /// <summary>
    /// Called once for every relayed request when it ends, with the status its caller saw (a failure part way counts as
    /// 502, as on Kestrel's way), the error (<see cref="ForwarderError.None"/> on success), when it began
    /// (<see cref="Stopwatch.GetTimestamp"/>) and its span (null unless traced; the relay ends it after this call).
    /// When the upstream failed before answering, returns the body of the 502 or 504 the caller gets; the return value
    /// is unused otherwise.
    /// </summary>
    protected abstract byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span);

    /// <summary>The <c>x-fedmesh-error</c> code of the relay's own 502 and 504.</summary>
    protected abstract string FailureCode { get; }

    /// <summary>
    /// Called when a response head arrives, before any of it is sent: false holds it back (its body is dropped) and
    /// <see cref="TryRetry"/> is asked. Only for a replayable request.
    /// </summary>
    protected virtual bool AcceptResponse(in RelayTarget target, int status) => true;

    /// <summary>
    /// Called when an attempt of a replayable request ended with nothing sent to the client: a failure before any
    /// response (<paramref name="error"/>), or a response held back (<paramref name="status"/>, no error). The owner
    /// accounts the attempt and, to send the request again, sets <paramref name="target"/> to the next and returns
    /// true. False ends the request with that failure (<see cref="Completed"/> follows, for the same attempt).
    /// </summary>
    protected virtual bool TryRetry(ref RelayTarget target, int status, ForwarderError error, Exception? exception) => false;

    private async Task RunAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        var exchange = new RelayExchange(connection);
        // The server stopping asks each connection to close: between requests, this one does at once.
        var closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(closing);
        while (!closing.IsCancellationRequested)
        {
            ReadResult read;
            // A head has its timeout from its first byte on (however slowly the rest trickles in); an idle connection the keep-alive.
            var left = exchange.HeadSince == 0 ? _keepAlive : _headTimeout - Stopwatch.GetElapsedTime(exchange.HeadSince);
            if (left <= TimeSpan.Zero)
                return;
            timeout.CancelAfter(left);
            try
            {
                read = await exchange.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested)
            {
                return; // idle past the keep-alive, a head that never finished, or the server stopping: closed, as Kestrel closes them
            }
            if (!timeout.TryReset())
                return;
            var buffer = read.Buffer;
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

    private enum Step { MoreHead, Closed, Kestrel, Relay }

    /// <summary>Finds and checks the head, asks the owner, and writes the upstream's head; the synchronous part of a request.</summary>
    private Step Prepare(RelayExchange exchange, ConnectionContext connection, ReadOnlySequence<byte> buffer, bool completed, out RelayTarget target)
    {
        target = default;
        if (buffer.IsEmpty && completed)
            return Step.Closed; // the client closed between requests
        var first = buffer.FirstSpan;
        var end = first.IndexOf("\r\n\r\n"u8);
        int headLength;
        if (end >= 0)
            headLength = end + 4;
        else if (buffer.IsSingleSegment)
            headLength = -1;
        else
        {
            var reader = new SequenceReader<byte>(buffer);
            headLength = reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8, advancePastDelimiter: true) ? (int)reader.Consumed : -1;
        }
        if (headLength < 0)
            return buffer.Length < MaxHeadSize && !completed ? Step.MoreHead : Step.Kestrel;
        ReadOnlySpan<byte> head;
        if (first.Length >= headLength)
            head = first[..headLength];
        else
        {
            buffer.Slice(0, headLength).CopyTo(exchange.HeadCopy(headLength));
            head = exchange.HeadCopy(headLength).AsSpan(0, headLength);
        }
        if (!TryParse(head, out var parsed))
            return Step.Kestrel;
        var request = new RelayRequest(head, head[..parsed.MethodLength], head.Slice(parsed.TargetStart, parsed.TargetLength),
            head.Slice(parsed.HostStart, parsed.HostLength), parsed.CallerFields, parsed.ContentLength);
        if (!TryRoute(connection, ref exchange.OwnerState, request, out target))
            return Step.Kestrel;
        if (target.Replayable && parsed.ContentLength > MaxReplayableBody)
            throw new InvalidOperationException($"a replayable request's body is at most {MaxReplayableBody} bytes; this one has {parsed.ContentLength}");
        exchange.Keep(head, parsed, buffer.Length - headLength, MeshTracing.Source.HasListeners() ? StartSpan(head, parsed) : null);
        return Step.Relay;
    }

    /// <summary>The request's span, a child of the caller's (its <c>traceparent</c>, when it sent exactly one), as on Kestrel's way.</summary>
    private Activity? StartSpan(ReadOnlySpan<byte> head, in RequestHead parsed)
    {
        var parent = default(ActivityContext);
        if (parsed.TraceParents == 1)
        {
            var traceParent = Encoding.ASCII.GetString(head.Slice(parsed.TraceParentStart, parsed.TraceParentLength));
            var traceState = parsed.TraceStateLength > 0 ? Encoding.ASCII.GetString(head.Slice(parsed.TraceStateStart, parsed.TraceStateLength)) : null;
            if (!ActivityContext.TryParse(traceParent, traceState, isRemote: true, out parent))
                parent = default;
        }
        return MeshTracing.Source.StartActivity(_spanName, _spanKind, parent);
    }
}
