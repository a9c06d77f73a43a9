using System.Diagnostics;
using System.Runtime.CompilerServices;
using FedMesh.Core.Resources;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace FedMesh.Core.Forwarding;

// The direct way, request side: the head as bytes, then the body (whole with the head when small, chunked when unsized).
public sealed partial class MeshForwarder
{
    /// <summary>A request body up to this size is read whole and sent in the same write as the head.</summary>
    private const int SmallBody = 16 * 1024;

    private static readonly byte[] ChunkEnd = "\r\n"u8.ToArray();
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();

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

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
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
}
