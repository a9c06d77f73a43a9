using System.Buffers;
using System.Buffers.Text;
using System.Collections.Frozen;
using System.Text;

namespace FedMesh.Core.Forwarding;

/// <summary>Reading an HTTP/1.1 response head (RFC 9112): the status line, header fields and the body's framing.</summary>
internal static class Http11Head
{
    /// <summary>The characters of an RFC 9110 token (a field name, a method).</summary>
    public static readonly SearchValues<byte> TokenChars =
        SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Names that arrive on nearly every response, so copying them allocates nothing.
    private static readonly FrozenDictionary<string, string> CommonNames = new[]
    {
        "Accept-Ranges", "Access-Control-Allow-Origin", "Age", "Cache-Control", "Content-Disposition", "Content-Encoding",
        "Content-Language", "Content-Length", "Content-Location", "Content-Range", "Content-Type", "Date", "ETag", "Expires",
        "grpc-message", "grpc-status", "Keep-Alive", "Last-Modified", "Link", "Location", "Retry-After", "Server", "Set-Cookie",
        "Strict-Transport-Security", "traceparent", "tracestate", "Transfer-Encoding", "Vary", "WWW-Authenticate", "Connection",
        "x-echo-protocol", "x-fedmesh-caller", "x-fedmesh-upstream-cluster", "X-Content-Type-Options", "X-Frame-Options", "x-request-id",
    }.ToFrozenDictionary(n => n, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> CommonNameLookup =
        CommonNames.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The length of the head including its closing empty line, or -1 when it has not all arrived.</summary>
    public static int HeadLength(ReadOnlySpan<byte> data)
    {
        var end = data.IndexOf("\r\n\r\n"u8);
        return end < 0 ? -1 : end + 4;
    }

    /// <summary>Parses <c>HTTP/1.x NNN reason</c>.</summary>
    public static bool TryParseStatusLine(ReadOnlySpan<byte> line, out int status, out bool http10)
    {
        status = 0;
        http10 = false;
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[8] != (byte)' ' || (line.Length > 12 && line[12] != (byte)' '))
            return false;
        if (line[7] == (byte)'0')
            http10 = true;
        else if (line[7] != (byte)'1')
            return false;
        if (!Utf8Parser.TryParse(line.Slice(9, 3), out status, out var used) || used != 3 || status < 100)
            return false;
        return true;
    }

    /// <summary>Splits one header line into name and value (optional whitespace trimmed), as positions in <paramref name="line"/>; false when it is malformed.</summary>
    public static bool TrySplitField(ReadOnlySpan<byte> line, out int nameLength, out int valueStart, out int valueLength)
    {
        nameLength = valueStart = valueLength = 0;
        var colon = line.IndexOf((byte)':');
        if (colon <= 0 || line[..colon].IndexOfAnyExcept(TokenChars) >= 0) // also refuses whitespace before the colon, and obs-fold lines
            return false;
        var start = colon + 1;
        var end = line.Length;
        while (start < end && line[start] is (byte)' ' or (byte)'\t')
            start++;
        while (end > start && line[end - 1] is (byte)' ' or (byte)'\t')
            end--;
        foreach (var b in line[start..end])
        {
            if (b < 0x20 && b != (byte)'\t' || b == 0x7f)
                return false;
        }
        nameLength = colon;
        valueStart = start;
        valueLength = end - start;
        return true;
    }

    /// <summary>The header name as a string, shared for the common ones.</summary>
    public static string Name(ReadOnlySpan<byte> name)
    {
        Span<char> chars = stackalloc char[name.Length <= 64 ? name.Length : 0];
        if (name.Length <= 64)
        {
            Encoding.ASCII.GetChars(name, chars);
            if (CommonNameLookup.TryGetValue(chars, out var known))
                return known;
        }
        return Encoding.ASCII.GetString(name);
    }

    public static string Value(ReadOnlySpan<byte> value) => value.IsEmpty ? "" : Encoding.Latin1.GetString(value);

    /// <summary>True when the comma-separated <paramref name="list"/> holds <paramref name="token"/> (case-insensitive).</summary>
    public static bool ListHas(ReadOnlySpan<byte> list, ReadOnlySpan<byte> token)
    {
        foreach (var range in list.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(list[range].Trim(" \t"u8), token))
                return true;
        }
        return false;
    }

    /// <summary>The last coding of a Transfer-Encoding value is chunked.</summary>
    public static bool EndsChunked(ReadOnlySpan<byte> transferEncoding)
    {
        var last = transferEncoding.LastIndexOf((byte)',');
        return Ascii.EqualsIgnoreCase(transferEncoding[(last + 1)..].Trim(" \t"u8), "chunked"u8);
    }

    /// <summary>A Content-Length value (digits only).</summary>
    public static bool TryParseLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 18 || value.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            return false;
        return Utf8Parser.TryParse(value, out length, out var used) && used == value.Length;
    }

    /// <summary>A chunk-size line (hex digits, then optional extensions); false when malformed.</summary>
    public static bool TryParseChunkSize(ReadOnlySpan<byte> line, out long size)
    {
        size = 0;
        var semicolon = line.IndexOf((byte)';');
        var digits = (semicolon >= 0 ? line[..semicolon] : line).TrimEnd(" \t"u8);
        if (digits.IsEmpty || digits.Length > 15)
            return false;
        foreach (var b in digits)
        {
            int d = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                _ => -1,
            };
            if (d < 0)
                return false;
            size = size * 16 + d;
        }
        return true;
    }
}
