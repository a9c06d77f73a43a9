using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using FedMesh.Core.Transport;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// One pooled HTTP/1.1 connection to an upstream (mTLS or plain), with its read buffer. It carries one
/// request at a time; between requests it waits in its <see cref="Http11Pool"/>. The pool's sweep reads
/// <see cref="LastActivity"/> and <see cref="Exchange"/> to abort a stalled exchange or one whose caller left.
/// </summary>
internal sealed class Http11Connection : IDisposable
{
    /// <summary>Read buffer size: one TLS record's worth of plaintext.</summary>
    public const int BufferSize = 16 * 1024;

    /// <summary>The largest response head accepted (SocketsHttpHandler's default limit).</summary>
    public const int MaxHeadSize = 64 * 1024;

    private readonly Stream _transport; // the socket's stream (under Stream, for TLS); owns the socket
    private int _abort; // an AbortReason, set once

    private Http11Connection(Stream transport, Stream stream)
    {
        _transport = transport;
        Stream = stream;
    }

    public Stream Stream { get; }

    private Socket Socket => _transport is LoopStream loop ? loop.Socket : ((NetworkStream)_transport).Socket;

    /// <summary>Unread response bytes are <c>Buffer[Start..End)</c>.</summary>
    public byte[] Buffer { get; private set; } = new byte[BufferSize];

    public int Start { get; set; }

    /// <summary>Where the request head (and a small body) is put together before one write.</summary>
    public byte[] Outgoing { get; private set; } = new byte[4096];

    /// <summary>Bytes of <see cref="Outgoing"/> in use.</summary>
    public int OutgoingLength { get; set; }

    public int End { get; set; }

    /// <summary>The connection has carried a request before (a failure before any answer may be a stale connection).</summary>
    public bool Reused { get; set; }

    /// <summary>It waits in its pool's idle stack (changed under the pool's lock).</summary>
    public bool Idle { get; set; }

    /// <summary>When it went back to the pool (<see cref="Environment.TickCount64"/>).</summary>
    public long IdleSince { get; set; }

    /// <summary>A request is on it now; with <see cref="CallerAborted"/> and <see cref="LastActivity"/>, read by the pool's sweep.</summary>
    public bool Busy => Volatile.Read(ref _exchange) != 0;

    /// <summary>Numbers the exchanges, so a sweep's late abort cannot hit the next request.</summary>
    public long ExchangeNumber => Volatile.Read(ref _exchange);

    private long _exchange;
    private long _exchanges;

    public CancellationToken CallerAborted { get; private set; }

    /// <summary>The forwarder's own reason to give up (e.g. the endpoint was evicted).</summary>
    public CancellationToken Abandoned { get; private set; }

    public long LastActivity => Volatile.Read(ref _lastActivity);

    private long _lastActivity;

    public long ActivityTimeoutMs { get; private set; }

    public AbortReason Aborted => (AbortReason)Volatile.Read(ref _abort);

    public bool IsAborted => Volatile.Read(ref _abort) != 0;

    public static async ValueTask<Http11Connection> ConnectAsync(string host, int port, SslClientAuthenticationOptions? tls, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var (transport, ssl) = await UpstreamStream.OpenAsync(host, port, tls, timeout, cancellationToken).ConfigureAwait(false);
        return new Http11Connection(transport, ssl ?? transport);
    }

    /// <summary>An idle connection is fit to reuse when the peer has neither closed it nor sent anything unasked.</summary>
    public bool LooksReusable()
    {
        try
        {
            return !IsAborted && !Socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    public void Begin(CancellationToken callerAborted, CancellationToken abandoned, TimeSpan activityTimeout)
    {
        ActivityTimeoutMs = (long)activityTimeout.TotalMilliseconds;
        CallerAborted = callerAborted;
        Abandoned = abandoned;
        Start = End = 0;
        Touch();
        Volatile.Write(ref _exchange, ++_exchanges);
    }

    public void Finish()
    {
        Volatile.Write(ref _exchange, 0);
        CallerAborted = default;
        Abandoned = default;
    }

    /// <summary>Bytes moved for the current request.</summary>
    public void Touch() => Volatile.Write(ref _lastActivity, Environment.TickCount64);

    /// <summary>Makes the buffer hold at least <paramref name="size"/> bytes, keeping the unread ones at its start.</summary>
    public void Compact(int size)
    {
        var target = size > Buffer.Length ? new byte[size] : Buffer;
        var unread = End - Start;
        if (unread > 0 && (Start > 0 || !ReferenceEquals(target, Buffer)))
            Buffer.AsSpan(Start, unread).CopyTo(target);
        Buffer = target;
        Start = 0;
        End = unread;
    }

    /// <summary>The response head's fields, as positions in its head (<see cref="FieldCount"/> of them).</summary>
    public HeadField[] Fields { get; private set; } = new HeadField[32];

    public int FieldCount { get; set; }

    /// <summary>How many of <see cref="Fields"/> are Connection fields that may name other fields.</summary>
    public int ConnectionFields { get; set; }

    public void AddField(HeadField field)
    {
        if (FieldCount == Fields.Length)
        {
            var grown = new HeadField[Fields.Length * 2];
            Fields.CopyTo(grown, 0);
            Fields = grown;
        }
        Fields[FieldCount++] = field;
    }

    // The strings of the last response's fields by position. An upstream repeats most fields verbatim from one
    // response to the next (Server, Content-Type, ETag, Date within a second), so those cost no new strings.
    private readonly (string Name, string Value)[] _recentFields = new (string, string)[16];

    /// <summary>
    /// The field at <paramref name="index"/> of the response head as strings: the name shared for common names, and
    /// both the same instances as the previous response's field at that position when the bytes are the same.
    /// </summary>
    public (string Name, string Value) FieldStrings(int index, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if ((uint)index >= (uint)_recentFields.Length)
            return (Http11Head.Name(name), Http11Head.Value(value));
        ref var recent = ref _recentFields[index];
        var nameText = recent.Name is not null && Ascii.Equals(name, recent.Name) ? recent.Name : Http11Head.Name(name);
        var valueText = recent.Value is not null && Ascii.Equals(value, recent.Value) ? recent.Value : Http11Head.Value(value);
        recent = (nameText, valueText);
        return recent;
    }

    /// <summary>Room for <paramref name="count"/> more bytes in <see cref="Outgoing"/>.</summary>
    public Span<byte> OutgoingSpan(int count)
    {
        if (OutgoingLength + count > Outgoing.Length)
        {
            var grown = new byte[Math.Max(Outgoing.Length * 2, OutgoingLength + count)];
            Outgoing.AsSpan(0, OutgoingLength).CopyTo(grown);
            Outgoing = grown;
        }
        return Outgoing.AsSpan(OutgoingLength, count);
    }

    /// <summary>
    /// Reads more bytes after <see cref="End"/>: the caller awaits it and hands the count to <see cref="Filled"/>.
    /// Two halves, not one async method, so that a caller waiting for the upstream waits one async frame shorter
    /// (each frame that waits is a state-machine box, which the runtime's pool misses when many exchanges wait at once).
    /// </summary>
    public ValueTask<int> ReadMoreAsync()
    {
        if (End == Buffer.Length)
            Compact(Buffer.Length);
        return Stream.ReadAsync(Buffer.AsMemory(End));
    }

    /// <summary>Takes in the <paramref name="read"/> bytes <see cref="ReadMoreAsync"/> read; false at the end of the stream.</summary>
    public bool Filled(int read)
    {
        Touch();
        End += read;
        return read > 0;
    }

    /// <summary>Closes the connection under exchange <paramref name="exchange"/>, if it is still on; the first reason given is kept.</summary>
    public void Abort(AbortReason reason, long exchange)
    {
        if (Volatile.Read(ref _exchange) != exchange)
            return;
        Interlocked.CompareExchange(ref _abort, (int)reason, 0);
        _transport.Dispose(); // what waits on the socket fails now
    }

    public void Dispose()
    {
        Interlocked.CompareExchange(ref _abort, (int)AbortReason.Closed, 0);
        Stream.Dispose();
        _transport.Dispose();
    }
}

internal enum AbortReason
{
    None = 0,
    /// <summary>No bytes moved for longer than the activity timeout.</summary>
    TimedOut = 1,
    /// <summary>The client went away.</summary>
    CallerLeft = 2,
    /// <summary>The forwarder's caller gave up on the request.</summary>
    Abandoned = 4,
    /// <summary>Closed by the pool (disposed, expired, or not reusable).</summary>
    Closed = 3,
}

/// <summary>One header field of a response head, as positions in the head.</summary>
internal readonly record struct HeadField(int NameStart, int NameLength, int ValueStart, int ValueLength)
{
    public ReadOnlySpan<byte> Name(ReadOnlySpan<byte> head) => head.Slice(NameStart, NameLength);

    public ReadOnlySpan<byte> Value(ReadOnlySpan<byte> head) => head.Slice(ValueStart, ValueLength);
}
