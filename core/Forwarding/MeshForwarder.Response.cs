using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace FedMesh.Core.Forwarding;

// The direct way, response side: the head read and checked, its fields copied, the body streamed by its framing.
public sealed partial class MeshForwarder
{
    /// <summary>A dropped response's body up to this size is read and discarded, so its connection can be reused.</summary>
    private const long DrainLimit = 64 * 1024;

    /// <summary>
    /// The final (non-1xx) response head, when it is whole in the connection's buffer: its status, whether it is
    /// HTTP/1.0, and its length. Null when more bytes are needed: the caller reads them
    /// (<see cref="Http11Connection.ReadMoreAsync"/>, or <see cref="ResponseHeadCutShort"/> when the upstream closed)
    /// and asks again. A synchronous step rather than an async method, so a caller waiting for the response waits
    /// one async frame shorter (see <see cref="Http11Connection.ReadMoreAsync"/>). Interim responses (100 Continue,
    /// 103 Early Hints) are passed over; a head too large, not HTTP/1.x, or a 101 throws.
    /// </summary>
    internal static (int Status, bool Http10, int HeadLength)? TakeResponseHead(Http11Connection connection)
    {
        while (true)
        {
            var length = Http11Head.HeadLength(connection.Buffer.AsSpan(connection.Start, connection.End - connection.Start));
            if (length < 0)
            {
                if (connection.End - connection.Start >= Http11Connection.MaxHeadSize)
                    throw new HttpRequestException($"the upstream's response head is larger than {Http11Connection.MaxHeadSize / 1024} KiB");
                if (connection.End == connection.Buffer.Length)
                    connection.Compact(Math.Min(connection.Buffer.Length * 2, Http11Connection.MaxHeadSize + 4));
                return null;
            }
            var head = connection.Buffer.AsSpan(connection.Start, length);
            var lineEnd = head.IndexOf("\r\n"u8);
            if (!Http11Head.TryParseStatusLine(head[..lineEnd], out var status, out var http10))
                throw new HttpRequestException($"the upstream's status line is not HTTP/1.x: '{Http11Head.Value(head[..Math.Min(lineEnd, 40)])}'");
            if (status is >= 100 and < 200 and not 101)
            {
                connection.Start += length; // an interim response: the final one follows
                continue;
            }
            if (status == 101)
                throw new HttpRequestException("the upstream switched protocols, and no upgrade was asked for");
            return (status, http10, length);
        }
    }

    /// <summary>The failure of a response head that the upstream's closing cut short (or never sent).</summary>
    internal static HttpRequestException ResponseHeadCutShort(Http11Connection connection) => new(connection.End == 0
        ? "the upstream closed the connection without answering"
        : "the upstream closed the connection in the middle of the response head");

    internal enum Framing { None, Length, Chunked, UntilClose }

    /// <summary>Copies status, headers and body to the client; returns whether the connection can carry another request.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> CopyResponseAsync(HttpContext context, Http11Connection connection, int status, int headLength,
        (Framing Framing, long Length, long Declared, bool KeepAlive) framed, MeshTransformer transformer)
    {
        var head = connection.Buffer.AsMemory(connection.Start, headLength);
        connection.Start += headLength;
        var (framing, bodyLength, declared, keepAlive) = framed;
        if (!transformer.AcceptResponse(context, status))
            return await DropAsync(connection, framed).ConfigureAwait(false);
        var response = context.Response;
        response.StatusCode = status;
        CopyHeaders(head.Span, connection, response.Headers);
        if (framing == Framing.Length)
            response.ContentLength = bodyLength;
        else if (declared >= 0 && framing == Framing.None && status != StatusCodes.Status204NoContent)
            response.ContentLength = declared; // on a HEAD or 304 response too, where it tells the length a GET would have had
        transformer.DecorateResponse(context);
        var output = response.BodyWriter;
        switch (framing)
        {
            case Framing.None:
                return keepAlive && connection.Start == connection.End;
            case Framing.Length:
                await Http11Body.CopyLengthAsync(connection, bodyLength, output).ConfigureAwait(false);
                break;
            case Framing.Chunked:
                await Http11Body.CopyChunkedAsync(connection, output, reframe: false).ConfigureAwait(false); // Kestrel frames its own
                break;
            default:
                await Http11Body.CopyUntilCloseAsync(connection, output).ConfigureAwait(false);
                keepAlive = false;
                break;
        }
        await Http11Body.FlushAsync(output).ConfigureAwait(false);
        return keepAlive && connection.Start == connection.End;
    }

    /// <summary>
    /// A response dropped to be retried elsewhere, its head consumed: a small body is read off so the connection can
    /// carry another request (returns whether it can); a larger one is left, and the connection closed.
    /// </summary>
    internal static async ValueTask<bool> DropAsync(Http11Connection connection, (Framing Framing, long Length, long Declared, bool KeepAlive) framed)
    {
        if (framed.Framing == Framing.None || (framed.Framing == Framing.Length && framed.Length <= DrainLimit))
        {
            await Http11Body.CopyLengthAsync(connection, framed.Length, null).ConfigureAwait(false);
            return framed.KeepAlive && connection.Start == connection.End;
        }
        return false;
    }

    /// <summary>
    /// Splits the head's fields (kept in <paramref name="connection"/>'s field table for <see cref="CopyHeaders"/>), and
    /// says how the body is delimited (RFC 9112 §6.3) and whether the upstream keeps the connection open.
    /// </summary>
    internal static (Framing Framing, long Length, long Declared, bool KeepAlive) ReadFields(ReadOnlySpan<byte> head, int status, bool http10,
        string method, Http11Connection connection)
    {
        var statusEnd = head.IndexOf("\r\n"u8);
        var keepAlive = !http10;
        long length = -1;
        var chunked = false;
        var transferEncoding = false;
        connection.FieldCount = 0;
        connection.ConnectionFields = 0;
        for (var at = statusEnd + 2; at < head.Length - 2;)
        {
            var lineLength = head[at..].IndexOf("\r\n"u8);
            var line = head.Slice(at, lineLength);
            if (!Http11Head.TrySplitField(line, out var nameLength, out var valueStart, out var valueLength))
                throw new HttpRequestException($"the upstream sent a malformed header line: '{Http11Head.Value(line[..Math.Min(line.Length, 40)])}'");
            connection.AddField(new(at, nameLength, at + valueStart, valueLength));
            at += lineLength + 2;
            var name = line[..nameLength];
            var value = line.Slice(valueStart, valueLength);
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!Http11Head.TryParseLength(value, out var parsed) || (length >= 0 && parsed != length))
                    throw new HttpRequestException($"the upstream sent an invalid Content-Length: '{Http11Head.Value(value)}'");
                length = parsed;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                transferEncoding = true;
                chunked = Http11Head.EndsChunked(value);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                // The usual "keep-alive" or "close" names no other field: the copy need not look for any.
                if (!Ascii.EqualsIgnoreCase(value, "keep-alive"u8) && !Ascii.EqualsIgnoreCase(value, "close"u8))
                    connection.ConnectionFields++;
                if (Http11Head.ListHas(value, "close"u8))
                    keepAlive = false;
                else if (http10 && Http11Head.ListHas(value, "keep-alive"u8))
                    keepAlive = true;
            }
        }
        if (HttpMethods.IsHead(method) || status is 204 or 304)
            return (Framing.None, 0, transferEncoding ? -1 : length, keepAlive);
        if (transferEncoding)
            // With both, Transfer-Encoding wins and the connection is not trusted again (RFC 9112 §6.3).
            return chunked ? (Framing.Chunked, 0, -1, keepAlive && length < 0) : (Framing.UntilClose, 0, -1, false);
        if (length >= 0)
            return length == 0 ? (Framing.None, 0, 0, keepAlive) : (Framing.Length, length, length, keepAlive);
        return (Framing.UntilClose, 0, -1, false);
    }

    private static void CopyHeaders(ReadOnlySpan<byte> head, Http11Connection connection, IHeaderDictionary headers)
    {
        var fields = connection.Fields.AsSpan(0, connection.FieldCount);
        ReadOnlySpan<byte> connectionTokens = default;
        if (connection.ConnectionFields > 0)
        {
            foreach (var field in fields)
            {
                // Several Connection fields are one list (RFC 9110 §5.3); they are rare, so joining them may copy.
                if (Ascii.EqualsIgnoreCase(field.Name(head), "Connection"u8))
                    connectionTokens = connectionTokens.IsEmpty ? field.Value(head) : Joined(connectionTokens, field.Value(head));
            }
        }
        for (var i = 0; i < fields.Length; i++)
        {
            var name = fields[i].Name(head);
            var value = fields[i].Value(head);
            if (IsHopByHopOrFraming(name) || (!connectionTokens.IsEmpty && Http11Head.ListHas(connectionTokens, name)))
                continue;
            var (key, text) = connection.FieldStrings(i, name, value);
            var existing = headers[key];
            headers[key] = existing.Count == 0 ? text : StringValues.Concat(existing, text);
        }
    }

    private static byte[] Joined(ReadOnlySpan<byte> list, ReadOnlySpan<byte> more) => [.. list, (byte)',', .. more];

    internal static bool IsHopByHopOrFraming(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => Ascii.EqualsIgnoreCase(name, "TE"u8),
        7 => Ascii.EqualsIgnoreCase(name, "Upgrade"u8) || Ascii.EqualsIgnoreCase(name, "Trailer"u8),
        10 => Ascii.EqualsIgnoreCase(name, "Connection"u8) || Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8),
        14 => Ascii.EqualsIgnoreCase(name, "Content-Length"u8), // set as ContentLength when it frames the body
        16 => Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8),
        17 => Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8),
        _ => false,
    };
}
