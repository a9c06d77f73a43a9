using System.Diagnostics;
using System.IO.Pipelines;
using System.Text;
using FedMesh.Core.Resources;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

public sealed partial class MeshForwarder
{
    /// <summary>A request body up to this size is read whole and sent in the same write as the head.</summary>
    private const int SmallBody = 16 * 1024;

    /// <summary>A dropped response's body up to this size is read and discarded, so its connection can be reused.</summary>
    private const long DrainLimit = 64 * 1024;

    private static readonly byte[] ChunkEnd = "\r\n"u8.ToArray();
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

    private enum Stage { Connect, Send, SendBody, AwaitResponse, ResponseBody }

    private static async ValueTask<ForwarderError> SendDirectAsync(HttpContext context, string target, MeshClient client, string destinationPrefix,
        TimeSpan activityTimeout, MeshTransformer transformer, CancellationToken abandoned)
    {
        Http11Pool pool;
        try
        {
            pool = client.PoolFor(destinationPrefix);
        }
        catch (Exception e) when (e is ObjectDisposedException or InvalidOperationException or UriFormatException)
        {
            return Fail(context, ForwarderError.Request, e); // a retired client, or a destination it cannot reach: a failed request, as YARP reports it
        }
        var request = context.Request;
        var length = request.ContentLength;
        var hasBody = length > 0 || (length is null && (context.Features.Get<IHttpRequestBodyDetectionFeature>()?.CanHaveBody ?? false));
        // A body can be sent again only if it was buffered (the proxy buffers retryable requests).
        var replayable = !hasBody || request.Body.CanSeek;
        var bodyStart = hasBody && request.Body.CanSeek ? request.Body.Position : 0;
        var fresh = false;
        while (true)
        {
            var stage = Stage.Connect;
            Http11Connection? connection = null;
            try
            {
                connection = fresh
                    ? await pool.ConnectAsync(context.RequestAborted).ConfigureAwait(false)
                    : await pool.RentAsync(verify: !replayable, context.RequestAborted).ConfigureAwait(false);
                connection.Begin(context.RequestAborted, abandoned, activityTimeout);
                stage = Stage.Send;
                var head = WriteHead(connection, context, target, transformer, client.Propagator, chunked: hasBody && length is null);
                if (!hasBody)
                    await connection.Stream.WriteAsync(connection.Outgoing.AsMemory(0, head)).ConfigureAwait(false);
                else
                {
                    stage = Stage.SendBody;
                    await SendBodyAsync(connection, request, head, length).ConfigureAwait(false);
                }
                connection.Touch();
                stage = Stage.AwaitResponse;
                var (status, headLength) = await ReadResponseHeadAsync(connection).ConfigureAwait(false);
                // Still the request's stage: a malformed head fails the request, as in YARP (SocketsHttpHandler reads it before returning).
                var framing = ReadFields(connection.Buffer.AsSpan(connection.Start, headLength), status, request.Method, connection);
                stage = Stage.ResponseBody;
                var reusable = await CopyResponseAsync(context, connection, status, headLength, framing, transformer).ConfigureAwait(false);
                pool.Return(connection, reusable);
                return ForwarderError.None;
            }
            catch (Exception e)
            {
                var reason = connection?.Aborted ?? AbortReason.None;
                if (connection is not null)
                    pool.Close(connection);
                // A reused connection the upstream had closed fails before any answer: send once more on a new one.
                if (!fresh && connection is { Reused: true } && reason is AbortReason.None or AbortReason.Closed && e is not ClientBodyException
                    && stage is Stage.Send or Stage.SendBody or Stage.AwaitResponse && connection.End == 0 && replayable
                    && !context.RequestAborted.IsCancellationRequested)
                {
                    if (hasBody)
                        request.Body.Position = bodyStart;
                    fresh = true;
                    continue;
                }
                return Fail(context, Classify(context, stage, reason, e), e is ClientBodyException or ClientGoneException ? e.InnerException ?? e : e);
            }
        }
    }

    private static ForwarderError Classify(HttpContext context, Stage stage, AbortReason reason, Exception e)
    {
        var callerLeft = reason == AbortReason.CallerLeft || context.RequestAborted.IsCancellationRequested;
        return stage switch
        {
            _ when e is ClientBodyException => callerLeft ? ForwarderError.RequestBodyCanceled : ForwarderError.RequestBodyClient,
            _ when e is ClientGoneException => callerLeft ? ForwarderError.ResponseBodyCanceled : ForwarderError.ResponseBodyClient,
            Stage.ResponseBody => callerLeft ? ForwarderError.ResponseBodyCanceled : ForwarderError.ResponseBodyDestination,
            _ when callerLeft || reason == AbortReason.Abandoned => ForwarderError.RequestCanceled,
            _ when reason == AbortReason.TimedOut || e is TimeoutException => ForwarderError.RequestTimedOut,
            Stage.SendBody => ForwarderError.RequestBodyDestination,
            _ => ForwarderError.Request,
        };
    }

    private static ForwarderError Fail(HttpContext context, ForwarderError error, Exception exception)
    {
        context.Features.Set<IForwarderErrorFeature>(new DirectForwarderError(error, exception));
        if (context.Response.HasStarted)
            context.Abort(); // part of the response is out: the client must not take it for the whole
        else
        {
            context.Response.Clear();
            context.Response.StatusCode = error == ForwarderError.RequestTimedOut ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status502BadGateway;
        }
        return error;
    }

    // ------------------------------------------------------------------ request

    /// <summary>Writes the request head into the connection's outgoing buffer; returns its length.</summary>
    private static int WriteHead(Http11Connection connection, HttpContext context, string target, MeshTransformer transformer,
        DistributedContextPropagator propagator, bool chunked)
    {
        var request = context.Request;
        connection.OutgoingLength = 0;
        Append(connection, request.Method);
        Append(connection, " "u8);
        Append(connection, target);
        Append(connection, " HTTP/1.1\r\nHost: "u8);
        Append(connection, transformer.UpstreamHost(context));
        Append(connection, "\r\n"u8);
        var headers = request.Headers;
        var connectionTokens = headers.Connection;
        var activity = Activity.Current;
        foreach (var (name, values) in headers)
        {
            if (IsHopByHop(name) || name.Equals(HeaderNames.Host, StringComparison.OrdinalIgnoreCase)
                || name.Equals(WellKnown.CallerIdentityHeader, StringComparison.OrdinalIgnoreCase)
                || (connectionTokens.Count > 0 && IsListedIn(connectionTokens, name))
                || (activity is not null && IsTraceField(propagator, name)))
                continue;
            foreach (var value in values)
                AppendField(connection, name, value ?? "");
        }
        if (transformer.Caller(context) is { } caller)
            AppendField(connection, WellKnown.CallerIdentityHeader, caller);
        if (activity is not null)
        {
            // The hop's span replaces the app's trace context, as YARP's ReverseProxyPropagator does on the other path.
            propagator.Inject(activity, connection, static (carrier, name, value) => AppendField((Http11Connection)carrier!, name, value));
        }
        if (chunked)
            Append(connection, "Transfer-Encoding: chunked\r\n"u8);
        Append(connection, "\r\n"u8);
        return connection.OutgoingLength;
    }

    private static bool IsHopByHop(string name) => name.Length switch
    {
        2 => name.Equals(HeaderNames.TE, StringComparison.OrdinalIgnoreCase),
        7 => name.Equals(HeaderNames.Upgrade, StringComparison.OrdinalIgnoreCase),
        10 => name.Equals(HeaderNames.Connection, StringComparison.OrdinalIgnoreCase) || name.Equals(HeaderNames.KeepAlive, StringComparison.OrdinalIgnoreCase),
        16 => name.Equals(HeaderNames.ProxyConnection, StringComparison.OrdinalIgnoreCase),
        17 => name.Equals(HeaderNames.TransferEncoding, StringComparison.OrdinalIgnoreCase),
        _ => false,
    };

    private static bool IsListedIn(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan()[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                    return true;
            }
        }
        return false;
    }

    private static bool IsTraceField(DistributedContextPropagator propagator, string name)
    {
        foreach (var field in propagator.Fields)
        {
            if (name.Equals(field, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    private static void AppendField(Http11Connection connection, string name, string value)
    {
        Append(connection, name);
        Append(connection, ": "u8);
        Append(connection, value);
        Append(connection, "\r\n"u8);
    }

    private static void Append(Http11Connection connection, ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(connection.OutgoingSpan(bytes.Length));
        connection.OutgoingLength += bytes.Length;
    }

    /// <summary>Latin-1 as HttpClient sends it; a character that cannot go on the wire fails the request.</summary>
    private static void Append(Http11Connection connection, string text)
    {
        var span = connection.OutgoingSpan(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c > '\u00ff' || (c < ' ' && c != '\t') || c == '\u007f')
                throw new InvalidOperationException($"the request cannot be sent upstream: '{Truncate(text)}' holds character U+{(int)c:X4}");
            span[i] = (byte)c;
        }
        connection.OutgoingLength += text.Length;
    }

    private static string Truncate(string text) => text.Length <= 60 ? text : text[..60] + "…";

    private static async ValueTask SendBodyAsync(Http11Connection connection, HttpRequest request, int head, long? length)
    {
        var body = request.Body;
        if (length is { } small && small <= SmallBody)
        {
            // Head and body in one write (one TLS record, one send).
            var n = (int)small;
            connection.OutgoingSpan(n);
            await ReadClientExactlyAsync(body, connection.Outgoing.AsMemory(head, n)).ConfigureAwait(false);
            await connection.Stream.WriteAsync(connection.Outgoing.AsMemory(0, head + n)).ConfigureAwait(false);
            return;
        }
        await connection.Stream.WriteAsync(connection.Outgoing.AsMemory(0, head)).ConfigureAwait(false);
        var chunked = length is null;
        var scratch = connection.Buffer; // the response has not begun: its buffer is free
        var sent = 0L;
        while (true)
        {
            int read;
            try
            {
                read = await body.ReadAsync(scratch.AsMemory(0, chunked ? scratch.Length - 16 : scratch.Length)).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                throw new ClientBodyException(e);
            }
            connection.Touch();
            if (read == 0)
                break;
            sent += read;
            if (chunked)
            {
                connection.OutgoingLength = 0;
                AppendChunkSize(connection, read);
                await connection.Stream.WriteAsync(connection.Outgoing.AsMemory(0, connection.OutgoingLength)).ConfigureAwait(false);
                await connection.Stream.WriteAsync(scratch.AsMemory(0, read)).ConfigureAwait(false);
                await connection.Stream.WriteAsync(ChunkEnd).ConfigureAwait(false);
            }
            else
                await connection.Stream.WriteAsync(scratch.AsMemory(0, read)).ConfigureAwait(false);
            connection.Touch();
        }
        if (chunked)
            await connection.Stream.WriteAsync(LastChunk).ConfigureAwait(false);
        else if (sent != length)
            throw new ClientBodyException(new IOException($"the client sent {sent} of the {length} bytes its Content-Length announced"));
    }

    private static void AppendChunkSize(Http11Connection connection, int size)
    {
        var span = connection.OutgoingSpan(10);
        size.TryFormat(span, out var written, "x");
        span[written] = (byte)'\r';
        span[written + 1] = (byte)'\n';
        connection.OutgoingLength += written + 2;
    }

    private static async ValueTask ReadClientExactlyAsync(Stream body, Memory<byte> into)
    {
        try
        {
            await body.ReadExactlyAsync(into).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw new ClientBodyException(e);
        }
    }

    // ------------------------------------------------------------------ response

    /// <summary>Reads up to the end of the final (non-1xx) response head; returns its status and length.</summary>
    private static async ValueTask<(int Status, int HeadLength)> ReadResponseHeadAsync(Http11Connection connection)
    {
        connection.Start = connection.End = 0;
        while (true)
        {
            var length = Http11Head.HeadLength(connection.Buffer.AsSpan(connection.Start, connection.End - connection.Start));
            if (length < 0)
            {
                if (connection.End - connection.Start >= Http11Connection.MaxHeadSize)
                    throw new HttpRequestException($"the upstream's response head is larger than {Http11Connection.MaxHeadSize / 1024} KiB");
                if (connection.End == connection.Buffer.Length)
                    connection.Compact(Math.Min(connection.Buffer.Length * 2, Http11Connection.MaxHeadSize + 4));
                if (!await connection.FillAsync().ConfigureAwait(false))
                    throw new HttpRequestException(connection.End == 0
                        ? "the upstream closed the connection without answering"
                        : "the upstream closed the connection in the middle of the response head");
                continue;
            }
            var head = connection.Buffer.AsSpan(connection.Start, length);
            var lineEnd = head.IndexOf("\r\n"u8);
            if (!Http11Head.TryParseStatusLine(head[..lineEnd], out var status, out _))
                throw new HttpRequestException($"the upstream's status line is not HTTP/1.x: '{Http11Head.Value(head[..Math.Min(lineEnd, 40)])}'");
            if (status is >= 100 and < 200 and not 101)
            {
                connection.Start += length; // an interim response (100 Continue, 103 Early Hints): the final one follows
                continue;
            }
            if (status == 101)
                throw new HttpRequestException("the upstream switched protocols, and no upgrade was asked for");
            return (status, length);
        }
    }

    private enum Framing { None, Length, Chunked, UntilClose }

    /// <summary>Copies status, headers and body to the client; returns whether the connection can carry another request.</summary>
    private static async ValueTask<bool> CopyResponseAsync(HttpContext context, Http11Connection connection, int status, int headLength,
        (Framing Framing, long Length, long Declared, bool KeepAlive) framed, MeshTransformer transformer)
    {
        var head = connection.Buffer.AsMemory(connection.Start, headLength);
        connection.Start += headLength;
        var (framing, bodyLength, declared, keepAlive) = framed;
        if (!transformer.AcceptResponse(context, status))
        {
            // Dropped (to be retried elsewhere): read a small body off the connection to keep it; close it otherwise.
            if (framing == Framing.None || (framing == Framing.Length && bodyLength <= DrainLimit))
            {
                await CopyLengthAsync(connection, bodyLength, null).ConfigureAwait(false);
                return keepAlive && connection.Start == connection.End;
            }
            return false;
        }
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
                await CopyLengthAsync(connection, bodyLength, output).ConfigureAwait(false);
                return keepAlive && connection.Start == connection.End;
            case Framing.Chunked:
                await CopyChunkedAsync(connection, output).ConfigureAwait(false);
                return keepAlive && connection.Start == connection.End;
            default:
                await CopyUntilCloseAsync(connection, output).ConfigureAwait(false);
                return false;
        }
    }

    /// <summary>
    /// Splits the head's fields (kept in <paramref name="connection"/>'s field table for <see cref="CopyHeaders"/>), and
    /// says how the body is delimited (RFC 9112 §6.3) and whether the upstream keeps the connection open.
    /// </summary>
    private static (Framing Framing, long Length, long Declared, bool KeepAlive) ReadFields(ReadOnlySpan<byte> head, int status, string method,
        Http11Connection connection)
    {
        var statusEnd = head.IndexOf("\r\n"u8);
        Http11Head.TryParseStatusLine(head[..statusEnd], out _, out var http10);
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
        foreach (var field in fields)
        {
            var name = field.Name(head);
            var value = field.Value(head);
            if (IsHopByHopOrFraming(name) || (!connectionTokens.IsEmpty && Http11Head.ListHas(connectionTokens, name)))
                continue;
            var key = Http11Head.Name(name);
            var text = Http11Head.Value(value);
            var existing = headers[key];
            headers[key] = existing.Count == 0 ? text : StringValues.Concat(existing, text);
        }
    }

    private static byte[] Joined(ReadOnlySpan<byte> list, ReadOnlySpan<byte> more) => [.. list, (byte)',', .. more];

    private static bool IsHopByHopOrFraming(ReadOnlySpan<byte> name) => name.Length switch
    {
        2 => Ascii.EqualsIgnoreCase(name, "TE"u8),
        7 => Ascii.EqualsIgnoreCase(name, "Upgrade"u8) || Ascii.EqualsIgnoreCase(name, "Trailer"u8),
        10 => Ascii.EqualsIgnoreCase(name, "Connection"u8) || Ascii.EqualsIgnoreCase(name, "Keep-Alive"u8),
        14 => Ascii.EqualsIgnoreCase(name, "Content-Length"u8), // set as ContentLength when it frames the body
        16 => Ascii.EqualsIgnoreCase(name, "Proxy-Connection"u8),
        17 => Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8),
        _ => false,
    };

    /// <summary>Copies exactly <paramref name="length"/> body bytes (to nowhere when <paramref name="output"/> is null).</summary>
    private static async ValueTask CopyLengthAsync(Http11Connection connection, long length, PipeWriter? output)
    {
        var left = length;
        while (left > 0)
        {
            if (connection.Start == connection.End)
            {
                connection.Start = connection.End = 0;
                if (!await connection.FillAsync().ConfigureAwait(false))
                    throw new HttpRequestException($"the upstream closed the connection {length - left} bytes into a {length}-byte body");
            }
            var take = (int)Math.Min(left, connection.End - connection.Start);
            left -= take;
            await WriteAsync(output, connection.Buffer.AsMemory(connection.Start, take)).ConfigureAwait(false);
            connection.Start += take;
        }
    }

    private static async ValueTask CopyChunkedAsync(Http11Connection connection, PipeWriter output)
    {
        while (true)
        {
            var line = await ReadLineAsync(connection).ConfigureAwait(false);
            if (!Http11Head.TryParseChunkSize(connection.Buffer.AsSpan(line.Start, line.Length), out var size))
                throw new HttpRequestException("the upstream sent a malformed chunk size");
            if (size == 0)
                break;
            await CopyLengthAsync(connection, size, output).ConfigureAwait(false);
            var end = await ReadLineAsync(connection).ConfigureAwait(false);
            if (end.Length != 0)
                throw new HttpRequestException("the upstream's chunk did not end where its size said");
        }
        // Trailer fields, if any, up to the empty line; they are not passed on (nor does the YARP path for HTTP/1.1 clients).
        while ((await ReadLineAsync(connection).ConfigureAwait(false)).Length != 0)
        {
        }
    }

    /// <summary>The next CRLF-terminated line in the buffer (consumed), as a position in <see cref="Http11Connection.Buffer"/>.</summary>
    private static async ValueTask<(int Start, int Length)> ReadLineAsync(Http11Connection connection)
    {
        while (true)
        {
            var end = connection.Buffer.AsSpan(connection.Start, connection.End - connection.Start).IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var start = connection.Start;
                connection.Start += end + 2;
                return (start, end);
            }
            if (connection.End - connection.Start > 4096)
                throw new HttpRequestException("the upstream sent a chunk line longer than 4 KiB");
            if (connection.Start > 0 && connection.End == connection.Buffer.Length)
                connection.Compact(connection.Buffer.Length);
            if (!await connection.FillAsync().ConfigureAwait(false))
                throw new HttpRequestException("the upstream closed the connection in the middle of a chunked body");
        }
    }

    private static async ValueTask CopyUntilCloseAsync(Http11Connection connection, PipeWriter output)
    {
        while (true)
        {
            if (connection.End > connection.Start)
                await WriteAsync(output, connection.Buffer.AsMemory(connection.Start, connection.End - connection.Start)).ConfigureAwait(false);
            connection.Start = connection.End = 0;
            if (!await connection.FillAsync().ConfigureAwait(false))
                return;
        }
    }

    private static async ValueTask WriteAsync(PipeWriter? output, ReadOnlyMemory<byte> data)
    {
        if (output is null)
            return;
        FlushResult result;
        try
        {
            result = await output.WriteAsync(data).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new ClientGoneException(e);
        }
        if (result.IsCanceled || result.IsCompleted)
            throw new ClientGoneException(new IOException("the client stopped reading the response"));
    }

    /// <summary>Reading the request body from the client failed.</summary>
    private sealed class ClientBodyException(Exception inner) : Exception(inner.Message, inner);

    /// <summary>Writing the response to the client failed.</summary>
    private sealed class ClientGoneException(Exception inner) : Exception(inner.Message, inner);
}
