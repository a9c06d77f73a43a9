using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;

namespace FedMesh.Core.Forwarding;

// The response side: the head passed on with the hop's fields changed, the body streamed by its framing.
public abstract partial class Http11Relay
{
    /// <summary>
    /// Writes the response head and body to the client; false when the client connection must close after it. What has
    /// arrived is sent with one flush (head and a small body in one TLS record), and every wait for the upstream
    /// flushes first, so a streamed body moves on as it comes.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
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
                await Http11Body.CopyLengthAsync(upstream, framed.Length, output).ConfigureAwait(false);
                break;
            case MeshForwarder.Framing.Chunked:
                await Http11Body.CopyChunkedAsync(upstream, output, reframe: true).ConfigureAwait(false);
                break;
            case MeshForwarder.Framing.UntilClose:
                await Http11Body.CopyUntilCloseAsync(upstream, output).ConfigureAwait(false);
                break;
        }
        await Http11Body.FlushAsync(output).ConfigureAwait(false);
        return !close;
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
}
