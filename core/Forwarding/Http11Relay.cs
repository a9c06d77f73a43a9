using System.Buffers;
using System.Diagnostics;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// Relays plain HTTP/1.1 exchanges as bytes, below Kestrel's HTTP layer: ahead of Kestrel on a shared port (the data
/// plane's listeners; <see cref="Http11RelayListening.UseRelay"/>), else as a connection middleware. The request head is
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
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => connection =>
        RunAsync(connection, next, connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default);

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
    private Activity? StartSpan(ReadOnlySpan<byte> head, in RequestHead parsed) => parsed.TraceParents == 1
        ? MeshTracing.StartSpan(_spanName, _spanKind, head.Slice(parsed.TraceParentStart, parsed.TraceParentLength),
            head.Slice(parsed.TraceStateStart, parsed.TraceStateLength))
        : MeshTracing.StartSpan(_spanName, _spanKind, default, default);
}

/// <summary>Installing an <see cref="Http11Relay"/> on a listener.</summary>
public static class Http11RelayListening
{
    /// <summary>
    /// Puts the relay <paramref name="relay"/> returns in front of <paramref name="listen"/>'s HTTP/1.1 connections (null:
    /// none yet, Kestrel takes them). On a shared port (<see cref="SharedPortEndPoint"/>) it runs ahead of Kestrel's
    /// dispatch, on the thread that accepted the connection (<see cref="SharedPortEndPoint.Front"/>), and Kestrel gets
    /// only the connections it hands on; elsewhere it is a connection middleware.
    /// </summary>
    public static void UseRelay(this ListenOptions listen, Func<Http11Relay?> relay)
    {
        if (listen.EndPoint is SharedPortEndPoint shared)
            shared.Front = (connection, handOff, closing) => relay() is { } built ? built.RunAsync(connection, handOff, closing) : handOff(connection);
        else
            listen.Use(next => relay()?.Middleware(next) ?? next);
    }
}
