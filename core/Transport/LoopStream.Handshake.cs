namespace FedMesh.Core.Transport;

// Where a stream's waits go on, and TLS handshakes kept off the loops' threads.
internal sealed partial class LoopStream
{
    /// <summary>
    /// Whether what waited for the loop (a read, a write) goes on on the loop's thread, where the loop completes it (so
    /// when the process runs socket completions inline, <see cref="SocketLoop.Inline"/>), or on the thread pool. Read
    /// when an operation starts waiting; <see cref="HandshakeOffLoopAsync"/> turns it off for a handshake.
    /// </summary>
    internal bool InlineContinuations { get; set; } = SocketLoop.Inline;

    /// <summary>
    /// Runs <paramref name="handshake"/> (a TLS handshake on <paramref name="transport"/>) away from the socket loops'
    /// threads: started on the thread pool when called on a loop's thread, and, when the transport is a loop's stream,
    /// with its waits going on on the thread pool until it ends. Everything else on the loop waits while its thread
    /// works, and a handshake's work can be long: besides its key exchange and signatures, the first chain built after
    /// every 5 minutes makes .NET read the system's whole root store again (~300 certificates, 50-120 ms here) even
    /// when only our anchors are trusted. On the loop's thread that stalled every connection of the loop as long.
    /// </summary>
    public static async Task HandshakeOffLoopAsync(Stream transport, Func<Task> handshake)
    {
        var loop = transport as LoopStream;
        var inline = loop?.InlineContinuations ?? false;
        if (loop is not null)
            loop.InlineContinuations = false;
        try
        {
            if (SocketLoop.OnLoopThread)
                await Task.Run(handshake).ConfigureAwait(false);
            else
                await handshake().ConfigureAwait(false);
        }
        finally
        {
            if (loop is not null)
                loop.InlineContinuations = inline;
        }
    }
}
