using System.Diagnostics;
using System.Text;
using FedMesh.Core.Forwarding;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Http2;

/// <summary>An answer of the relay's owner's own (a refusal, a probe's), sent instead of forwarding the request.</summary>
public readonly record struct RelayAnswer(int Status, string? ErrorCode, byte[] Body);

/// <summary>What the owner of an <see cref="Http2Relay"/> routes a request by.</summary>
public readonly ref struct Http2RelayRequest
{
    private readonly Http2HeaderList _fields;

    internal Http2RelayRequest(Http2HeaderList fields, bool hasBody)
    {
        _fields = fields;
        HasBody = hasBody;
        Method = fields[":method"u8];
        Authority = fields[":authority"u8];
        if (Authority.IsEmpty)
            Authority = fields["host"u8];
        Path = fields[":path"u8];
        ContentLength = System.Buffers.Text.Utf8Parser.TryParse(fields["content-length"u8], out long length, out var used) && used > 0 ? length : -1;
    }

    public ReadOnlySpan<byte> Method { get; }

    /// <summary>The <c>:authority</c> (or, without one, the <c>host</c> field).</summary>
    public ReadOnlySpan<byte> Authority { get; }

    /// <summary>The <c>:path</c>: path and query.</summary>
    public ReadOnlySpan<byte> Path { get; }

    /// <summary>Whether data may follow the head (its HEADERS frame did not end the stream).</summary>
    public bool HasBody { get; }

    /// <summary>The declared <c>content-length</c>; -1 without one.</summary>
    public long ContentLength { get; }

    /// <summary>The value of the first field named <paramref name="name"/> (lower case); empty when there is none.</summary>
    public ReadOnlySpan<byte> Field(ReadOnlySpan<byte> name) => _fields[name];
}

/// <summary>
/// Relays HTTP/2 connections stream by stream, with our own HTTP/2 on both sides (<see cref="Http2Connection"/>):
/// each request the owner routes (<see cref="TryRoute"/>) goes as a stream on a pooled HTTP/2 connection to the chosen
/// upstream (<see cref="MeshClient.Http2PoolFor"/>), its fields passed on as they came but for the hop's own
/// (<c>:authority</c> when the target names a host, <c>x-fedmesh-caller</c>, the trace context), its data and
/// trailers both ways as they arrive, each side's flow control holding the other back; resets go through. gRPC
/// (streaming both ways, trailers) passes as any other request. A request the owner does not route gets the owner's
/// own answer. No HttpContext, header dictionary or HttpRequestMessage is made; the HTTP/1.1 counterpart is
/// <see cref="Http11Relay"/>, with the same owner hooks.
/// </summary>
public abstract partial class Http2Relay
{
    private static readonly byte[] CallerName = Encoding.ASCII.GetBytes(WellKnown.CallerIdentityHeader);

    /// <summary>
    /// Whether the data plane relays HTTP/2 itself (the default); <c>FEDMESH_HTTP2_RELAY=0</c> leaves HTTP/2 to Kestrel
    /// and YARP, as before the relay.
    /// </summary>
    public static bool Enabled { get; } = Environment.GetEnvironmentVariable("FEDMESH_HTTP2_RELAY") != "0";

    private readonly string _spanName;
    private readonly ActivityKind _spanKind;
    private readonly TimeSpan _activityTimeout;
    private readonly Http2ConnectionOptions _options;
    private readonly SweepTimer _sweeps;
    private readonly HashSet<Http2Connection> _live = []; // the callers' connections, for the sweeps

    /// <param name="activityTimeout">A stream is abandoned after this long without a frame moving either way.</param>
    protected Http2Relay(string spanName, ActivityKind spanKind, TimeSpan activityTimeout)
    {
        _spanName = spanName;
        _spanKind = spanKind;
        _activityTimeout = activityTimeout;
        // Each stream's window bounds what waits here for its upstream: 256 KiB a stream, 4 MiB a connection.
        _options = new Http2ConnectionOptions { StreamWindow = 256 * 1024, ConnectionWindow = 4 << 20 };
        _sweeps = new SweepTimer(TimeProvider.System, Sweep);
    }

    /// <summary>
    /// Routes a request: true forwards it to <paramref name="target"/>; false answers it with <paramref name="answer"/>.
    /// </summary>
    protected abstract bool TryRoute(ConnectionContext connection, in Http2RelayRequest request, out RelayTarget target, out RelayAnswer answer);

    /// <summary>
    /// Called once for every forwarded request when it ends, as <see cref="Http11Relay"/> calls its owner: the status the
    /// caller saw (502 or 504 for a failure before any response), the error, when it began and its span. Returns the
    /// body of the 502 or 504 when the upstream failed before answering.
    /// </summary>
    protected abstract byte[] Completed(in RelayTarget target, int status, ForwarderError error, Exception? exception, long started, Activity? span);

    /// <summary>The <c>x-fedmesh-error</c> code of the relay's own 502 and 504.</summary>
    protected abstract string FailureCode { get; }

    /// <summary>
    /// Called when the final response head of a replayable request's attempt arrives, before any of it is sent: false
    /// holds it back (the attempt is reset) and <see cref="TryRetry"/> is asked, as <see cref="Http11Relay"/> asks.
    /// </summary>
    protected virtual bool AcceptResponse(in RelayTarget target, int status) => true;

    /// <summary>
    /// Called when an attempt of a replayable request ended with nothing sent to the caller (a failure before any
    /// response, or a response held back): true, with the next <paramref name="target"/>, sends the request again.
    /// A replayable request's body (at most <see cref="Http11Relay.MaxReplayableBody"/>) is kept until its response is
    /// accepted.
    /// </summary>
    protected virtual bool TryRetry(ref RelayTarget target, int status, ForwarderError error, Exception? exception) => false;

    /// <summary>
    /// Serves one HTTP/2 connection (ALPN h2, or h2c's preface) until it ends. When <paramref name="closing"/> is
    /// cancelled the caller is told GOAWAY and the streams under way may finish.
    /// </summary>
    public async Task RunAsync(ConnectionContext connection, CancellationToken closing)
    {
        var h2 = new Http2Connection(connection.Transport, isServer: true, _options, stream => new RelayedStream(this, connection, stream));
        await using var drain = closing.Register(static state => _ = ((Http2Connection)state!).GoAwayAsync(), h2).ConfigureAwait(false);
        lock (_live)
            _live.Add(h2);
        try
        {
            await h2.RunAsync(connection.ConnectionClosed).ConfigureAwait(false);
        }
        finally
        {
            lock (_live)
                _live.Remove(h2);
        }
    }

    /// <summary>
    /// The activity timeout's clock, instead of a timer per stream: abandons every relayed stream that nothing has
    /// moved on for the timeout, and says when the next may be due (<see cref="SweepTimer"/>: every second while
    /// streams start, else at the first one's deadline, else not at all).
    /// </summary>
    private TimeSpan? Sweep()
    {
        Http2Connection[] connections;
        lock (_live)
            connections = [.. _live];
        var handlers = new List<IHttp2StreamHandler>();
        foreach (var connection in connections)
            connection.CollectHandlers(handlers);
        var now = Environment.TickCount64;
        TimeSpan? next = null;
        foreach (var handler in handlers)
        {
            if (handler is RelayedStream relayed && relayed.Expire(now) is { } left && (next is null || left < next))
                next = left;
        }
        return next;
    }

    /// <summary>The request's span, a child of the caller's when it sent a <c>traceparent</c>.</summary>
    private Activity? StartSpan(Http2HeaderList fields) => MeshTracing.StartSpan(_spanName, _spanKind, fields["traceparent"u8], fields["tracestate"u8]);

    /// <summary>
    /// The fields sent upstream: the caller's, but for the hop's own (<c>:scheme</c>, and as the target says
    /// <c>:authority</c>, the caller, the trace context); in a rented list (<see cref="Http2HeaderList.Rent"/>), to be
    /// given back once sent.
    /// </summary>
    private static Http2HeaderList UpstreamFields(Http2HeaderList request, in RelayTarget target, Activity? span)
    {
        var fields = Http2HeaderList.Rent();
        var propagator = target.Client.Propagator;
        for (var i = 0; i < request.Count; i++)
        {
            var name = request.Name(i);
            if (target.Caller is not null && name.SequenceEqual(CallerName))
                continue;
            if (span is not null && MeshTracing.IsPropagatorField(propagator, name))
                continue;
            if (target.Host is not null && name.SequenceEqual(":authority"u8))
                fields.Add(name, target.Host);
            else if (name.SequenceEqual(":scheme"u8))
                fields.Add(name, target.Prefix.StartsWith("https:", StringComparison.Ordinal) ? "https"u8 : "http"u8); // the hop's own (a server checks it)
            else
                fields.Add(name, request.Value(i), request.NeverIndexed(i));
        }
        if (target.Caller is not null)
            fields.Add(CallerName, target.Caller);
        if (span is not null)
            propagator.Inject(span, fields, static (carrier, name, value) =>
                ((Http2HeaderList)carrier!).Add(Encoding.ASCII.GetBytes(name.ToLowerInvariant()), value ?? ""));
        return fields;
    }
}

/// <summary>Installing an <see cref="Http2Relay"/> on a listener.</summary>
public static class Http2RelayListening
{
    /// <summary>
    /// Serves <paramref name="listen"/>'s HTTP/2 connections with the relay <paramref name="relay"/> returns (null:
    /// Kestrel serves them). Only on a shared port's HTTP/2 half (<see cref="SharedPortEndPoint"/>, as
    /// <see cref="TlsTransportExtensions.ListenTls"/> and the cleartext detection make them).
    /// </summary>
    public static void UseHttp2Relay(this ListenOptions listen, Func<Http2Relay?> relay)
    {
        if (listen.EndPoint is not SharedPortEndPoint { Protocol: HttpProtocols.Http2 } shared)
            throw new InvalidOperationException($"{listen.EndPoint} is not the HTTP/2 half of a shared port");
        shared.Front = (connection, handOff, closing) => relay() is { } built ? built.RunAsync(connection, closing) : handOff(connection);
    }
}
