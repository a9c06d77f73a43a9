using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace FedMesh.Core.Tests.Http2;

/// <summary>
/// A connected socket as the duplex pipe a connection runs over (completing either half closes the socket), each half
/// watched for the misuse a pipe does not survive: completed while a read's buffer or a write is under way, two reads
/// or two writers at once. What it saw is in <see cref="Misuse"/>.
/// </summary>
internal sealed class SocketPipe : IDuplexPipe
{
    public SocketPipe(Socket socket)
    {
        var stream = new NetworkStream(socket, ownsSocket: true);
        Input = new WatchedReader(PipeReader.Create(stream), Misuse);
        Output = new WatchedWriter(PipeWriter.Create(stream), Misuse);
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    public ConcurrentQueue<string> Misuse { get; } = new();

    /// <summary>
    /// Awaits <paramref name="operation"/> with <paramref name="flag"/> up (found up already: <paramref name="twice"/>
    /// is misuse); the flag comes down when the operation fails, and when it succeeds unless <paramref name="keepUp"/>.
    /// </summary>
    private static async ValueTask<T> RaisedAsync<T>(Flag flag, bool keepUp, string twice, ConcurrentQueue<string> misuse, Func<ValueTask<T>> operation)
    {
        if (flag.Raise())
            misuse.Enqueue(twice);
        var succeeded = false;
        try
        {
            var result = await operation();
            succeeded = true;
            return result;
        }
        finally
        {
            if (!succeeded || !keepUp)
                flag.Lower();
        }
    }

    private sealed class Flag
    {
        private int _up;

        public bool IsUp => Volatile.Read(ref _up) == 1;

        /// <summary>Raises the flag; true when it was up already.</summary>
        public bool Raise() => Interlocked.Exchange(ref _up, 1) == 1;

        public void Lower() => Volatile.Write(ref _up, 0);
    }

    /// <summary>A reader whose buffer is held from ReadAsync to AdvanceTo.</summary>
    private sealed class WatchedReader(PipeReader inner, ConcurrentQueue<string> misuse) : PipeReader
    {
        private readonly Flag _held = new();

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            RaisedAsync(_held, keepUp: true, "a read began before the last one's buffer was given back", misuse, () => inner.ReadAsync(cancellationToken));

        public override bool TryRead(out ReadResult result)
        {
            var read = inner.TryRead(out result);
            if (read)
                _held.Raise();
            return read;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            inner.AdvanceTo(consumed, examined);
            _held.Lower();
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null)
        {
            if (_held.IsUp)
                misuse.Enqueue("the input was completed while a read was under way or its buffer held");
            inner.Complete(exception);
        }
    }

    /// <summary>A writer written to (GetSpan, Advance) and then flushed, by one writer at a time.</summary>
    private sealed class WatchedWriter(PipeWriter inner, ConcurrentQueue<string> misuse) : PipeWriter
    {
        private readonly Flag _pending = new();
        private readonly Flag _flushing = new();

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            Touch();
            return inner.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            Touch();
            return inner.GetSpan(sizeHint);
        }

        public override void Advance(int bytes)
        {
            Touch();
            inner.Advance(bytes);
        }

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await RaisedAsync(_flushing, keepUp: false, "two flushes at once", misuse, () => inner.FlushAsync(cancellationToken));
            }
            finally
            {
                _pending.Lower();
            }
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null)
        {
            if (_pending.IsUp || _flushing.IsUp)
                misuse.Enqueue("the output was completed while a writer was using it");
            inner.Complete(exception);
        }

        private void Touch()
        {
            if (_flushing.IsUp)
                misuse.Enqueue("a frame was written while another writer's flush was under way");
            _pending.Raise();
        }
    }
}
