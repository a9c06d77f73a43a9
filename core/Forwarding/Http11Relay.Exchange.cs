using System.Buffers;
using System.Buffers.Text;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.IO.Pipelines;
using System.Text;
using FedMesh.Core.Telemetry;
using Microsoft.AspNetCore.Connections;

namespace FedMesh.Core.Forwarding;

public abstract partial class Http11Relay
{
    /// <summary>
    /// One client connection's relay state: its pipes and the request under way, reused from request to request. Its
    /// buffers are the shared pool's, given back when the connection's relay ends (<see cref="Dispose"/>): a caller that
    /// opens a connection per request would otherwise allocate them each time.
    /// </summary>
    private sealed class RelayExchange(ConnectionContext connection) : IDisposable
    {
        private byte[] _outgoing = ArrayPool<byte>.Shared.Rent(4096);
        private byte[] _headCopy = [];
        private string? _caller;
        private byte[] _callerField = [];

        public PipeReader Input { get; } = connection.Transport.Input;

        public PipeWriter Output { get; } = connection.Transport.Output;

        /// <summary>The owner's reusable per-request state (<see cref="TryRoute"/>'s slot).</summary>
        public object? OwnerState;

        /// <summary>The client connection closed (the upstream exchange is abandoned).</summary>
        public CancellationToken Closed { get; } = connection.ConnectionClosed;

        /// <summary>When the first bytes of a still unfinished request head arrived (<see cref="Stopwatch.GetTimestamp"/>); 0 between requests.</summary>
        public long HeadSince { get; set; }

        public int HeadLength { get; private set; }

        public long BodyLength { get; private set; }

        /// <summary>Bytes after the head that had arrived with it.</summary>
        public long Arrived { get; private set; }

        public bool IsHead { get; private set; }

        /// <summary>The client asked to close after this exchange, or the connection cannot carry another.</summary>
        public bool CloseAfter { get; set; }

        public int OutgoingLength { get; set; }

        /// <summary>The request's span while a tracer listens; its context replaces the caller's on the way up.</summary>
        public Activity? Span { get; set; }

        public ReadOnlyMemory<byte> OutgoingMemory => _outgoing.AsMemory(0, OutgoingLength);

        /// <summary>The outgoing buffer, grown to hold at least <paramref name="size"/> bytes (the ones in use kept).</summary>
        public byte[] Outgoing(int size)
        {
            if (size > _outgoing.Length)
            {
                var grown = ArrayPool<byte>.Shared.Rent(Math.Max(size, _outgoing.Length * 2));
                _outgoing.AsSpan(0, OutgoingLength).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_outgoing);
                _outgoing = grown;
            }
            return _outgoing;
        }

        /// <summary>Gives the buffers back to the pool; the relay is done with the connection.</summary>
        public void Dispose()
        {
            OutgoingLength = HeadLength = 0;
            foreach (var buffer in (ReadOnlySpan<byte[]>)[_outgoing, _headCopy])
            {
                if (buffer.Length > 0)
                    ArrayPool<byte>.Shared.Return(buffer);
            }
            _outgoing = _headCopy = [];
        }

        /// <summary>Room to copy the client's head to (what it held is not kept when it grows).</summary>
        public byte[] HeadCopy(int size)
        {
            if (_headCopy.Length < size)
            {
                var old = _headCopy;
                _headCopy = ArrayPool<byte>.Shared.Rent(Math.Max(size, 4096));
                if (old.Length > 0)
                    ArrayPool<byte>.Shared.Return(old);
            }
            return _headCopy;
        }

        /// <summary>The request body that is in hand (all of it when the request can be sent again).</summary>
        public byte[] Body { get; private set; } = [];

        public int BodyInHand { get; set; }

        /// <summary>Room for <paramref name="size"/> body bytes.</summary>
        public byte[] BodyBuffer(int size)
        {
            if (Body.Length < size)
                Body = new byte[Math.Max(size, 1024)];
            return Body;
        }

        private RequestHead _parsed;

        /// <summary>
        /// Keeps the client's head (copied out of the pipe, so each attempt can write its own from it) and what was
        /// found in it, for the request about to be relayed.
        /// </summary>
        public void Keep(ReadOnlySpan<byte> head, in RequestHead parsed, long arrived, Activity? span)
        {
            if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(head), ref MemoryMarshal.GetArrayDataReference(_headCopy)))
                head.CopyTo(HeadCopy(head.Length));
            _parsed = parsed;
            HeadLength = head.Length;
            BodyLength = parsed.ContentLength;
            Arrived = arrived;
            IsHead = parsed.MethodLength == 4 && head.StartsWith("HEAD"u8);
            CloseAfter = parsed.Close;
            BodyInHand = 0;
            Span = span;
        }

        /// <summary>
        /// Writes the upstream's head for <paramref name="target"/>: the request line, Host (the target's, or the
        /// client's), every field the hop passes on, the caller, and the span's trace context; then the body in hand.
        /// </summary>
        public void Build(in RelayTarget target)
        {
            var head = _headCopy.AsSpan(0, HeadLength);
            var caller = target.Caller;
            if (caller is null)
            {
                _caller = null;
                _callerField = [];
            }
            else if (!ReferenceEquals(caller, _caller))
            {
                _caller = caller;
                _callerField = CallerField(caller);
            }
            var lineEnd = head.IndexOf("\r\n"u8) + 2;
            var host = target.Host is null ? head.Slice(_parsed.HostStart, _parsed.HostLength) : default;
            var buffer = Outgoing(HeadLength + _callerField.Length + (target.Host?.Length ?? 0) + 8);
            var at = 0;
            Put(buffer, ref at, head[..lineEnd]);
            Put(buffer, ref at, "Host: "u8);
            if (target.Host is null)
                Put(buffer, ref at, host);
            else
                at += Encoding.ASCII.GetBytes(target.Host, buffer.AsSpan(at));
            Put(buffer, ref at, "\r\n"u8);
            var propagator = target.Client.Propagator;
            for (var start = lineEnd; start < head.Length - 2;)
            {
                var length = head[start..].IndexOf("\r\n"u8) + 2;
                var line = head.Slice(start, length);
                var name = line[..line.IndexOf((byte)':')];
                if (!Dropped(name, caller is not null) && (Span is null || !MeshTracing.IsPropagatorField(propagator, name)))
                    Put(buffer, ref at, line);
                start += length;
            }
            Put(buffer, ref at, _callerField);
            OutgoingLength = at;
            if (Span is not null)
                propagator.Inject(Span, this, static (carrier, name, value) => ((RelayExchange)carrier!).AppendField(name, value));
            Outgoing(OutgoingLength + 2 + BodyInHand);
            "\r\n"u8.CopyTo(_outgoing.AsSpan(OutgoingLength));
            OutgoingLength += 2;
            Body.AsSpan(0, BodyInHand).CopyTo(_outgoing.AsSpan(OutgoingLength));
            OutgoingLength += BodyInHand;
        }

        private static void Put(byte[] buffer, ref int at, ReadOnlySpan<byte> bytes)
        {
            bytes.CopyTo(buffer.AsSpan(at));
            at += bytes.Length;
        }

        private void AppendField(string name, string? value)
        {
            var text = $"{name}: {value}\r\n";
            Outgoing(OutgoingLength + text.Length);
            OutgoingLength += Encoding.ASCII.GetBytes(text, _outgoing.AsSpan(OutgoingLength));
        }

        /// <summary>Cuts the client connection (part of a response is out, or the client is gone).</summary>
        public void Abort() => connection.Abort(new ConnectionAbortedException("the relayed exchange failed part way"));
    }

    /// <summary>Puts a head together in the output pipe's buffer; nothing is sent until the next flush.</summary>
    private ref struct HeadWriter
    {
        private readonly PipeWriter _output;
        private Span<byte> _span;
        private int _written;

        public HeadWriter(PipeWriter output, int sizeHint)
        {
            _output = output;
            _span = output.GetSpan(sizeHint);
        }

        public void Append(scoped ReadOnlySpan<byte> bytes)
        {
            if (bytes.Length > _span.Length - _written)
            {
                _output.Advance(_written);
                _written = 0;
                _span = _output.GetSpan(bytes.Length);
            }
            bytes.CopyTo(_span[_written..]);
            _written += bytes.Length;
        }

        public void Append(string ascii) => Append(Encoding.ASCII.GetBytes(ascii));

        public void Append(long number)
        {
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(number, digits, out var length);
            Append(digits[..length]);
        }

        public void Commit() => _output.Advance(_written);
    }

    /// <summary>
    /// The <c>x-fedmesh-caller</c> field of <paramref name="caller"/>, encoded once for as long as the callers that come
    /// are the same one (a proxy's are its workload's identity), instead of once per client connection.
    /// </summary>
    private static byte[] CallerField(string caller)
    {
        var last = _lastCallerField;
        if (last is null || !string.Equals(last.Key, caller, StringComparison.Ordinal))
        {
            last = new EncodedField<string>(caller, Encoding.ASCII.GetBytes($"x-fedmesh-caller: {caller}\r\n"));
            _lastCallerField = last;
        }
        return last.Field;
    }

    private static EncodedField<string>? _lastCallerField;

    /// <summary>A field encoded for a key, published whole (one reference) so that no reader sees a key with another's field.</summary>
    private sealed record EncodedField<TKey>(TKey Key, byte[] Field);

    /// <summary>The <c>Date</c> field for the current second, made once a second.</summary>
    private static class HttpDate
    {
        private static EncodedField<long> _current = new(0, []);

        public static ReadOnlySpan<byte> Field
        {
            get
            {
                var now = DateTimeOffset.UtcNow;
                var second = now.ToUnixTimeSeconds();
                var current = _current;
                if (current.Key != second)
                {
                    current = new EncodedField<long>(second, Encoding.ASCII.GetBytes($"Date: {now:r}\r\n"));
                    _current = current;
                }
                return current.Field;
            }
        }
    }
}
