using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using FedMesh.Core.Telemetry;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
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

/// <summary>The parts of a request head the owner routes by, as bytes of the head.</summary>
public readonly ref struct RelayRequest(ReadOnlySpan<byte> head, ReadOnlySpan<byte> method, ReadOnlySpan<byte> target, ReadOnlySpan<byte> host,
    int callerFields, long contentLength)
{
    public ReadOnlySpan<byte> Method { get; } = method;

    /// <summary>The origin-form target: path and query.</summary>
    public ReadOnlySpan<byte> Target { get; } = target;

    public ReadOnlySpan<byte> Host { get; } = host;

    /// <summary>The whole head, through its empty line.</summary>
    public ReadOnlySpan<byte> Head { get; } = head;

    /// <summary>How many <c>x-fedmesh-caller</c> fields the request has.</summary>
    public int CallerFields { get; } = callerFields;

    /// <summary>The body's length (0 without one: the relay takes no chunked body).</summary>
    public long ContentLength { get; } = contentLength;

    /// <summary>The value of the field named <paramref name="name"/>; false when there is none, or more than one.</summary>
    public bool TryGetField(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        var found = 0;
        var fields = Head[(Head.IndexOf("\r\n"u8) + 2)..];
        while (fields.Length > 2)
        {
            var line = fields[..fields.IndexOf("\r\n"u8)];
            fields = fields[(line.Length + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon == name.Length && Ascii.EqualsIgnoreCase(line[..colon], name))
            {
                value = line[(colon + 1)..].Trim(" \t"u8);
                found++;
            }
        }
        return found == 1;
    }

    /// <summary>The path, without the query.</summary>
    public ReadOnlySpan<byte> Path => Target.IndexOf((byte)'?') is var q and >= 0 ? Target[..q] : Target;
}

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

    private static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // RFC 3986 path and query characters (pchar, '/', '?', and '%' of percent-encoding); anything else is Kestrel's to judge.
    private static readonly SearchValues<byte> TargetChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"u8);

    // A reg-name or IP literal with an optional port.
    private static readonly SearchValues<byte> HostChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]"u8);

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

    /// <summary>False leaves the request, and the rest of its connection, to Kestrel.</summary>
    protected abstract bool TryRoute(ConnectionContext connection, in RelayRequest request, out RelayTarget target);

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
            if (!await RelayAsync(exchange, target, buffer).ConfigureAwait(false))
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
        if (!TryRoute(connection, request, out target))
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

    /// <summary>Positions in a checked request head.</summary>
    private struct RequestHead
    {
        public int MethodLength, TargetStart, TargetLength, HostStart, HostLength;
        public int TraceParents, TraceParentStart, TraceParentLength, TraceStateStart, TraceStateLength, CallerFields;
        public long ContentLength;
        public bool Close;
    }

    /// <summary>
    /// Checks a request head and finds what the relay needs; false for anything it leaves to Kestrel: not HTTP/1.1,
    /// not origin-form, a field it does not relay (Transfer-Encoding, Upgrade, Expect, a Connection naming other
    /// fields), no or several Host fields, a bad or repeated Content-Length, or a byte Kestrel might judge otherwise.
    /// </summary>
    private static bool TryParse(ReadOnlySpan<byte> head, out RequestHead parsed)
    {
        parsed = default;
        var lineEnd = head.IndexOf("\r\n"u8);
        var line = head[..lineEnd];
        var space = line.IndexOf((byte)' ');
        if (space <= 0 || line[..space].IndexOfAnyExcept(TokenChars) >= 0)
            return false;
        parsed.MethodLength = space;
        var rest = line[(space + 1)..];
        var targetEnd = rest.IndexOf((byte)' ');
        if (targetEnd <= 0 || rest[0] != (byte)'/' || rest[..targetEnd].IndexOfAnyExcept(TargetChars) >= 0 || !rest[(targetEnd + 1)..].SequenceEqual("HTTP/1.1"u8))
            return false;
        parsed.TargetStart = space + 1;
        parsed.TargetLength = targetEnd;
        var hosts = 0;
        parsed.ContentLength = -1;
        for (var at = lineEnd + 2; at < head.Length - 2;)
        {
            var length = head[at..].IndexOf("\r\n"u8);
            var field = head.Slice(at, length);
            if (!Http11Head.TrySplitField(field, out var nameLength, out var valueStart, out var valueLength))
                return false;
            var name = field[..nameLength];
            var value = field.Slice(valueStart, valueLength);
            if (value.IndexOfAnyInRange((byte)0x80, (byte)0xff) >= 0)
                return false; // Kestrel refuses non-ASCII values by default: let it
            switch (nameLength)
            {
                case 4 when Ascii.EqualsIgnoreCase(name, "Host"u8):
                    if (++hosts > 1 || value.IsEmpty || value.IndexOfAnyExcept(HostChars) >= 0)
                        return false;
                    parsed.HostStart = at + valueStart;
                    parsed.HostLength = valueLength;
                    break;
                case 14 when Ascii.EqualsIgnoreCase(name, "Content-Length"u8):
                    if (parsed.ContentLength >= 0 || !Http11Head.TryParseLength(value, out parsed.ContentLength))
                        return false;
                    break;
                case 10 when Ascii.EqualsIgnoreCase(name, "Connection"u8):
                    foreach (var range in value.Split((byte)','))
                    {
                        var token = value[range].Trim(" \t"u8);
                        if (Ascii.EqualsIgnoreCase(token, "close"u8))
                            parsed.Close = true;
                        else if (!token.IsEmpty && !Ascii.EqualsIgnoreCase(token, "keep-alive"u8))
                            return false; // names another field to drop: rare, Kestrel's way does it
                    }
                    break;
                case 16 when Ascii.EqualsIgnoreCase(name, "x-fedmesh-caller"u8):
                    parsed.CallerFields++;
                    break;
                case 11 when Ascii.EqualsIgnoreCase(name, "traceparent"u8):
                    parsed.TraceParents++;
                    parsed.TraceParentStart = at + valueStart;
                    parsed.TraceParentLength = valueLength;
                    break;
                case 10 when Ascii.EqualsIgnoreCase(name, "tracestate"u8):
                    // Several tracestate fields are one list; the first is enough to continue the trace.
                    if (parsed.TraceStateLength == 0)
                    {
                        parsed.TraceStateStart = at + valueStart;
                        parsed.TraceStateLength = valueLength;
                    }
                    break;
                case 6 when Ascii.EqualsIgnoreCase(name, "Expect"u8):
                case 7 when Ascii.EqualsIgnoreCase(name, "Upgrade"u8):
                case 17 when Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8):
                    return false;
            }
            at += length + 2;
        }
        if (hosts != 1)
            return false;
        if (parsed.ContentLength < 0)
            parsed.ContentLength = 0;
        return true;
    }

    /// <summary>A request head field the hop does not pass on: hop-by-hop ones, Host (written first), and the caller when it is replaced.</summary>
    private static bool Dropped(ReadOnlySpan<byte> name, bool replaceCaller) => name.Length switch
    {
        2 => Ascii.EqualsIgnoreCase(name, "TE"u8),
        4 => Ascii.EqualsIgnoreCase(name, "Host"u8),
        10 => Ascii.EqualsIgnoreCase(name, "Connection"u8) || Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8),
        16 => Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8) || (replaceCaller && Ascii.EqualsIgnoreCase(name, "x-fedmesh-caller"u8)),
        _ => false,
    };

    /// <summary>
    /// Sends the prepared request upstream and its response back; false when the client connection must close
    /// (asked for, or the exchange failed part way).
    /// </summary>
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
                var (status, http10, headLength) = await MeshForwarder.ReadResponseHeadAsync(upstream).ConfigureAwait(false);
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

    /// <summary>
    /// Writes the response head and body to the client; false when the client connection must close after it. What has
    /// arrived is sent with one flush (head and a small body in one TLS record), and every wait for the upstream
    /// flushes first, so a streamed body moves on as it comes.
    /// </summary>
    private static async ValueTask<bool> CopyResponseAsync(RelayExchange exchange, Http11Connection upstream, int status, int headLength,
        (MeshForwarder.Framing Framing, long Length, long Declared, bool KeepAlive) framed, byte[]? extraField)
    {
        var output = exchange.Output;
        var head = upstream.Buffer.AsSpan(upstream.Start, headLength);
        var close = exchange.CloseAfter || framed.Framing == MeshForwarder.Framing.UntilClose;
        WriteResponseHead(output, head, upstream, status, framed.Framing, close, extraField);
        upstream.Start += headLength;
        switch (framed.Framing)
        {
            case MeshForwarder.Framing.Length:
                await CopyLengthAsync(upstream, framed.Length, output).ConfigureAwait(false);
                break;
            case MeshForwarder.Framing.Chunked:
                await CopyChunkedAsync(upstream, output).ConfigureAwait(false);
                break;
            case MeshForwarder.Framing.UntilClose:
                do
                {
                    output.Write(upstream.Buffer.AsSpan(upstream.Start, upstream.End - upstream.Start));
                    upstream.Start = upstream.End = 0;
                }
                while (await FillAsync(upstream, output).ConfigureAwait(false));
                break;
        }
        await MeshForwarder.WriteAsync(output, default).ConfigureAwait(false);
        return !close;
    }

    private static async ValueTask CopyLengthAsync(Http11Connection upstream, long length, PipeWriter output)
    {
        var left = length;
        while (left > 0)
        {
            if (upstream.Start == upstream.End)
            {
                upstream.Start = upstream.End = 0;
                if (!await FillAsync(upstream, output).ConfigureAwait(false))
                    throw new HttpRequestException($"the upstream closed the connection {length - left} bytes into a {length}-byte body");
            }
            var take = (int)Math.Min(left, upstream.End - upstream.Start);
            output.Write(upstream.Buffer.AsSpan(upstream.Start, take));
            upstream.Start += take;
            left -= take;
        }
    }

    /// <summary>Re-frames a chunked body (chunk extensions and trailer fields are not passed on, as on Kestrel's way).</summary>
    private static async ValueTask CopyChunkedAsync(Http11Connection upstream, PipeWriter output)
    {
        while (true)
        {
            var line = await MeshForwarder.ReadLineAsync(upstream, output).ConfigureAwait(false);
            if (!Http11Head.TryParseChunkSize(upstream.Buffer.AsSpan(line.Start, line.Length), out var size))
                throw new HttpRequestException("the upstream sent a malformed chunk size");
            if (size == 0)
                break;
            var span = output.GetSpan(20);
            size.TryFormat(span, out var written, "x");
            "\r\n"u8.CopyTo(span[written..]);
            output.Advance(written + 2);
            await CopyLengthAsync(upstream, size, output).ConfigureAwait(false);
            output.Write("\r\n"u8);
            if ((await MeshForwarder.ReadLineAsync(upstream, output).ConfigureAwait(false)).Length != 0)
                throw new HttpRequestException("the upstream's chunk did not end where its size said");
        }
        while ((await MeshForwarder.ReadLineAsync(upstream, output).ConfigureAwait(false)).Length != 0)
        {
        }
        output.Write("0\r\n\r\n"u8);
    }

    /// <summary>Sends what the client has not been sent yet, then reads more from the upstream; false at its end.</summary>
    private static async ValueTask<bool> FillAsync(Http11Connection upstream, PipeWriter output)
    {
        if (output.UnflushedBytes > 0)
            await MeshForwarder.WriteAsync(output, default).ConfigureAwait(false);
        return await upstream.FillAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The status line (as HTTP/1.1) and the fields the hop passes on: all but the hop-by-hop ones, those the upstream's
    /// Connection names, and the framing fields, which are written for the body as it is sent on (Content-Length kept
    /// when it frames it, or tells a HEAD's or 304's length; chunked otherwise).
    /// </summary>
    private static void WriteResponseHead(PipeWriter output, ReadOnlySpan<byte> head, Http11Connection upstream, int status,
        MeshForwarder.Framing framing, bool close, byte[]? extraField)
    {
        var lineEnd = head.IndexOf("\r\n"u8);
        var writer = new HeadWriter(output, head.Length + 64);
        writer.Append("HTTP/1.1 "u8);
        writer.Append(head[9..(lineEnd + 2)]);
        ReadOnlySpan<byte> connectionTokens = default;
        var fields = upstream.Fields.AsSpan(0, upstream.FieldCount);
        if (upstream.ConnectionFields > 0)
        {
            foreach (var field in fields)
            {
                if (Ascii.EqualsIgnoreCase(field.Name(head), "Connection"u8))
                    connectionTokens = connectionTokens.IsEmpty ? field.Value(head) : (byte[])[.. connectionTokens, (byte)',', .. field.Value(head)];
            }
        }
        var hasDate = false;
        foreach (var field in fields)
        {
            var name = field.Name(head);
            if (name.Length == 14 && Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (framing is MeshForwarder.Framing.Chunked or MeshForwarder.Framing.UntilClose || status == 204)
                    continue;
            }
            else if (MeshForwarder.IsHopByHopOrFraming(name) || (!connectionTokens.IsEmpty && Http11Head.ListHas(connectionTokens, name)))
                continue;
            hasDate |= name.Length == 4 && Ascii.EqualsIgnoreCase(name, "Date"u8);
            writer.Append(head.Slice(field.NameStart, field.ValueStart + field.ValueLength - field.NameStart));
            writer.Append("\r\n"u8);
        }
        if (!hasDate)
            writer.Append(HttpDate.Field); // a forwarded response carries a Date (RFC 9110 §6.6.1)
        if (extraField is not null)
            writer.Append(extraField);
        if (framing == MeshForwarder.Framing.Chunked)
            writer.Append("Transfer-Encoding: chunked\r\n"u8);
        if (close)
            writer.Append("Connection: close\r\n"u8);
        writer.Append("\r\n"u8);
        writer.Commit();
    }

    /// <summary>Answers the upstream's failure before any response: a 502, or a 504 on a timeout, with the owner's body.</summary>
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
            await MeshForwarder.WriteAsync(exchange.Output, default).ConfigureAwait(false);
        }
        catch (MeshForwarder.ClientGoneException)
        {
            return false;
        }
        return !exchange.CloseAfter;
    }
}
