using System.Buffers;
using System.Text;

namespace FedMesh.Core.Forwarding;

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

// The request side: the head checked, and the fields the hop does not pass on.
public abstract partial class Http11Relay
{
    // RFC 3986 path and query characters (pchar, '/', '?', and '%' of percent-encoding); anything else is Kestrel's to judge.
    private static readonly SearchValues<byte> TargetChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%"u8);

    // A reg-name or IP literal with an optional port.
    private static readonly SearchValues<byte> HostChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:[]"u8);

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
        if (space <= 0 || line[..space].IndexOfAnyExcept(Http11Head.TokenChars) >= 0)
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
}
