using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// Moves an HTTP/1.1 response body from a pooled upstream connection to the client, by its framing, for both ways a
/// response takes: the relay's (the client connection's own output, where the relay frames chunks itself) and the
/// direct way's (Kestrel's response body, which frames them for its client). What has arrived is written into the
/// client's writer and flushed only before the next wait for the upstream: a small response goes out in one write, and
/// a streamed one moves on as it comes.
/// </summary>
internal static class Http11Body
{
    /// <summary>The most asked of the writer at once: one block of Kestrel's memory pool.</summary>
    private const int Piece = 4096;

    /// <summary>Copies exactly <paramref name="length"/> body bytes (reads them off, to nowhere, when <paramref name="output"/> is null).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask CopyLengthAsync(Http11Connection upstream, long length, PipeWriter? output)
    {
        var left = length;
        while (left > 0)
        {
            if (upstream.Start == upstream.End)
            {
                upstream.Start = upstream.End = 0;
                if (!await FillAsync(upstream, output).ConfigureAwait(false))
                    throw new HttpRequestException($"the upstream closed the connection {length - left} bytes into a {length}-byte body");
            }
            var take = (int)Math.Min(left, upstream.End - upstream.Start);
            if (output is not null)
                Write(output, upstream.Buffer.AsSpan(upstream.Start, take));
            upstream.Start += take;
            left -= take;
        }
    }

    /// <summary>
    /// Copies a chunked body's data; with <paramref name="reframe"/> also writes it as chunks (for a writer that does not
    /// frame them itself). Chunk extensions and trailer fields are not passed on, on either way.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask CopyChunkedAsync(Http11Connection upstream, PipeWriter output, bool reframe)
    {
        while (true)
        {
            var line = await ReadLineAsync(upstream, output).ConfigureAwait(false);
            if (!Http11Head.TryParseChunkSize(upstream.Buffer.AsSpan(line.Start, line.Length), out var size))
                throw new HttpRequestException("the upstream sent a malformed chunk size");
            if (size == 0)
                break;
            if (reframe)
            {
                var span = output.GetSpan(20);
                size.TryFormat(span, out var written, "x");
                "\r\n"u8.CopyTo(span[written..]);
                output.Advance(written + 2);
            }
            await CopyLengthAsync(upstream, size, output).ConfigureAwait(false);
            if (reframe)
                Write(output, "\r\n"u8);
            if ((await ReadLineAsync(upstream, output).ConfigureAwait(false)).Length != 0)
                throw new HttpRequestException("the upstream's chunk did not end where its size said");
        }
        while ((await ReadLineAsync(upstream, output).ConfigureAwait(false)).Length != 0)
        {
        }
        if (reframe)
            Write(output, "0\r\n\r\n"u8);
    }

    /// <summary>Copies everything the upstream sends until it closes the connection (a body without framing).</summary>
    public static async ValueTask CopyUntilCloseAsync(Http11Connection upstream, PipeWriter output)
    {
        do
        {
            Write(output, upstream.Buffer.AsSpan(upstream.Start, upstream.End - upstream.Start));
            upstream.Start = upstream.End = 0;
        }
        while (await FillAsync(upstream, output).ConfigureAwait(false));
    }

    /// <summary>
    /// Copies <paramref name="data"/> into the writer, asking for a size each time. Not <c>BuffersExtensions.Write</c>:
    /// asked with no size, Kestrel's response writer can offer an empty span once its current block is full, and that
    /// method takes an empty span for a broken writer and throws.
    /// </summary>
    internal static void Write(PipeWriter output, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            var span = output.GetSpan(Math.Min(data.Length, Piece));
            if (span.IsEmpty)
                throw new InvalidOperationException($"{output.GetType().Name} offered no memory for {data.Length} bytes");
            var n = Math.Min(span.Length, data.Length);
            data[..n].CopyTo(span);
            output.Advance(n);
            data = data[n..];
        }
    }

    /// <summary>The next CRLF-terminated line in the buffer (consumed), as a position in <see cref="Http11Connection.Buffer"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<(int Start, int Length)> ReadLineAsync(Http11Connection upstream, PipeWriter output)
    {
        while (true)
        {
            var end = upstream.Buffer.AsSpan(upstream.Start, upstream.End - upstream.Start).IndexOf("\r\n"u8);
            if (end >= 0)
            {
                var start = upstream.Start;
                upstream.Start += end + 2;
                return (start, end);
            }
            if (upstream.End - upstream.Start > 4096)
                throw new HttpRequestException("the upstream sent a chunk line longer than 4 KiB");
            if (upstream.Start > 0 && upstream.End == upstream.Buffer.Length)
                upstream.Compact(upstream.Buffer.Length);
            if (!await FillAsync(upstream, output).ConfigureAwait(false))
                throw new HttpRequestException("the upstream closed the connection in the middle of a chunked body");
        }
    }

    /// <summary>Sends on what the client has not been sent yet, then reads more from the upstream; false at its end.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<bool> FillAsync(Http11Connection upstream, PipeWriter? output)
    {
        if (output is not null && (!output.CanGetUnflushedBytes || output.UnflushedBytes > 0))
            await FlushAsync(output).ConfigureAwait(false);
        return upstream.Filled(await upstream.ReadMoreAsync().ConfigureAwait(false));
    }

    /// <summary>Flushes the client's writer; a client that has gone is a <see cref="MeshForwarder.ClientGoneException"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public static async ValueTask FlushAsync(PipeWriter output)
    {
        FlushResult result;
        try
        {
            result = await output.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is not InvalidOperationException)
        {
            throw new MeshForwarder.ClientGoneException(e);
        }
        if (result.IsCanceled || result.IsCompleted)
            throw new MeshForwarder.ClientGoneException(new IOException("the client stopped reading the response"));
    }
}
