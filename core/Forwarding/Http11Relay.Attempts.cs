using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

/// <summary>Where a relayed request goes, as its owner decided from the head: the upstream and the caller it is sent as.</summary>
/// <param name="Caller">The <c>x-fedmesh-caller</c> sent upstream in place of any the request had; null passes the request's own on.</param>
/// <param name="State">The owner's own: what <see cref="Http11Relay.Completed"/> needs to count and report the request.</param>
public readonly record struct RelayTarget(MeshClient Client, string Prefix, string? Caller, object? State)
{
    /// <summary>The Host sent upstream; null keeps the client's.</summary>
    public string? Host { get; init; }

    /// <summary>A field line, CRLF included, added to the response head (the proxy's <c>x-fedmesh-upstream-cluster</c>).</summary>
    public byte[]? ResponseField { get; init; }

    /// <summary>Abandons the exchange when cancelled (the endpoint left discovery).</summary>
    public CancellationToken Abandoned { get; init; }

    /// <summary>
    /// The request may be sent again (see <see cref="Http11Relay.TryRetry"/>): its body, which the owner made sure is
    /// at most <see cref="Http11Relay.MaxReplayableBody"/>, is read whole before the first attempt.
    /// </summary>
    public bool Replayable { get; init; }
}

// The exchange's steps that RunAsync's attempts call: a body read or sent, the request reported, a failure answered.
public abstract partial class Http11Relay
{
    /// <summary>Reads the rest of a replayable request's body into the exchange.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ReadBodyAsync(RelayExchange exchange, long left)
    {
        while (left > 0)
        {
            var piece = await NextBodyPieceAsync(exchange, left).ConfigureAwait(false);
            piece.CopyTo(exchange.Body.AsSpan(exchange.BodyInHand));
            exchange.BodyInHand += (int)piece.Length;
            left -= piece.Length;
            exchange.Input.AdvanceTo(piece.End);
        }
    }

    /// <summary>The next piece of the client's body that has arrived (at most <paramref name="left"/> bytes); the caller advances past it.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private static async ValueTask<ReadOnlySequence<byte>> NextBodyPieceAsync(RelayExchange exchange, long left)
    {
        ReadResult read;
        try
        {
            read = await exchange.Input.ReadAsync().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            throw new MeshForwarder.ClientBodyException(e);
        }
        var buffer = read.Buffer;
        if (buffer.IsEmpty && (read.IsCompleted || read.IsCanceled))
            throw new MeshForwarder.ClientBodyException(new IOException($"the client closed the connection {left} bytes before the end of the body its Content-Length announced"));
        return buffer.Slice(0, Math.Min(left, buffer.Length));
    }

    /// <summary>Reports the request to the owner, then ends its span.</summary>
    private byte[] Finish(RelayExchange exchange, in RelayTarget target, int status, ForwarderError error, Exception? exception, long started)
    {
        var span = exchange.Span;
        exchange.Span = null;
        try
        {
            return Completed(target, status, error, exception, started, span);
        }
        finally
        {
            span?.Dispose();
        }
    }

    /// <summary>Streams the rest of a Content-Length body from the client to the upstream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask SendBodyAsync(RelayExchange exchange, Http11Connection upstream, long left)
    {
        while (left > 0)
        {
            var piece = await NextBodyPieceAsync(exchange, left).ConfigureAwait(false);
            foreach (var segment in piece)
                await upstream.Stream.WriteAsync(segment).ConfigureAwait(false);
            upstream.Touch();
            left -= piece.Length;
            exchange.Input.AdvanceTo(piece.End);
        }
    }

    /// <summary>Answers the upstream's failure before any response: a 502, or a 504 on a timeout, with the owner's body.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FailAsync(RelayExchange exchange, RelayTarget target, ForwarderError error, Exception exception, long started)
    {
        var status = error == ForwarderError.RequestTimedOut ? 504 : 502;
        var body = Finish(exchange, target, status, error, exception, started);
        var writer = new HeadWriter(exchange.Output, body.Length + 256);
        writer.Append(status == 504 ? "HTTP/1.1 504 Gateway Timeout\r\n"u8 : "HTTP/1.1 502 Bad Gateway\r\n"u8);
        writer.Append("Content-Type: text/plain; charset=utf-8\r\nContent-Length: "u8);
        writer.Append(body.Length);
        writer.Append("\r\nx-fedmesh-error: "u8);
        writer.Append(FailureCode);
        writer.Append("\r\n"u8);
        writer.Append(HttpDate.Field);
        if (exchange.CloseAfter)
            writer.Append("Connection: close\r\n"u8);
        writer.Append("\r\n"u8);
        writer.Append(body);
        writer.Commit();
        try
        {
            await Http11Body.FlushAsync(exchange.Output).ConfigureAwait(false);
        }
        catch (MeshForwarder.ClientGoneException)
        {
            return false;
        }
        return !exchange.CloseAfter;
    }
}
