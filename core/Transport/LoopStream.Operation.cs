using System.Threading.Tasks.Sources;

namespace FedMesh.Core.Transport;

internal sealed partial class LoopStream
{
    /// <summary>
    /// A read or a write of a <see cref="LoopStream"/> that waits for the loop: what it waits with, and the awaitable
    /// it completes. Whoever clears the direction's waiting bit (the loop's event, the stream's disposal, or a
    /// cancellation) completes it, so it completes once.
    /// </summary>
    private sealed class Operation(LoopStream stream, bool read) : IValueTaskSource<int>, IValueTaskSource
    {
        // Continuations run where it completes (on the loop) while the stream's InlineContinuations say so.
        private ManualResetValueTaskSourceCore<int> _core;
        private Memory<byte> _buffer;
        private CancellationTokenRegistration _cancellation;
        private bool _awaited; // counted among the answers its loop expects (a read of a connection this process opened)

        private ref int Word => ref read ? ref stream._read : ref stream._write;

        /// <summary>
        /// Leaves the operation waiting, if the direction's word is still <paramref name="state"/> (not ready, and no
        /// event since); false when it changed, and the caller tries again.
        /// </summary>
        public bool TryWait(ref int word, int state, Memory<byte> buffer, CancellationToken cancellationToken, out short token)
        {
            _buffer = buffer;
            _core.RunContinuationsAsynchronously = !stream.InlineContinuations;
            _core.Reset();
            token = _core.Version;
            if (cancellationToken.CanBeCanceled)
                _cancellation = cancellationToken.UnsafeRegister(static (state, token) =>
                {
                    var (operation, version) = ((Operation, short))state!;
                    operation.Cancel(version, token);
                }, (this, token));
            // Counted (only while busy polling is on) before it can complete: an event may complete it as soon as the
            // waiting bit is set.
            if (read && stream._client && BusyPolling.Window != 0)
            {
                _awaited = true;
                stream._loop.Awaiting(1);
            }
            if (Interlocked.CompareExchange(ref word, state | Waiting, state) != state)
            {
                _cancellation.Unregister();
                _cancellation = default;
                Settled();
                return false;
            }
            if ((stream.Disposed || read && stream.ReadEnded) && Signal(ref word, Ended))
                Complete(); // disposed (or its reading ended) meanwhile, after its own look for a waiting operation
            return true;
        }

        private void Cancel(short version, CancellationToken token)
        {
            if (_core.Version != version || !TakeWaiting(ref Word))
                return;
            _buffer = default;
            Settled();
            _core.SetException(new OperationCanceledException(token));
        }

        /// <summary>Clears the waiting bit without marking the direction ready; true when it was set.</summary>
        private static bool TakeWaiting(ref int word)
        {
            while (true)
            {
                var state = Volatile.Read(ref word);
                if ((state & Waiting) == 0)
                    return false;
                if (Interlocked.CompareExchange(ref word, state & ~Waiting, state) == state)
                    return true;
            }
        }

        /// <summary>Does the operation now that the socket is ready (or closed), or leaves it waiting again.</summary>
        public void Complete()
        {
            _cancellation.Unregister();
            _cancellation = default;
            ref var word = ref Word;
            while (true)
            {
                if (read && stream.ReadEnded)
                {
                    Succeed(0); // ended from this side: as at the end of the stream
                    return;
                }
                if (stream.Disposed)
                {
                    Fail(stream.Failure(EBadF, read ? "reading" : "writing"));
                    return;
                }
                if (_buffer.IsEmpty)
                {
                    Succeed(0); // a zero-byte read, or a connect: readiness is all it waited for
                    return;
                }
                var state = Volatile.Read(ref word);
                var done = read ? stream.Receive(_buffer.Span, out var errno) : stream.SendSome(_buffer.Span, out errno);
                if (done >= 0)
                {
                    if (read)
                    {
                        if (done > 0 && done < _buffer.Length)
                            NotReady(ref word, state);
                        Succeed((int)done);
                        return;
                    }
                    _buffer = _buffer[(int)done..];
                    continue;
                }
                if (errno == Libc.EAgain && (state & Ended) == 0)
                {
                    // Nothing after all (an event for the other direction's sake, or taken by a read that raced it): wait again.
                    if (Interlocked.CompareExchange(ref word, (state & ~Ready) | Waiting, state) == state)
                    {
                        if (stream.Disposed && Signal(ref word, Ended))
                            continue; // disposed meanwhile: fails above
                        return;
                    }
                    continue;
                }
                if (errno != Libc.EIntr)
                {
                    Fail(stream.Failure(errno, read ? "reading" : "writing"));
                    return;
                }
            }
        }

        private void Succeed(int result)
        {
            _buffer = default;
            Settled();
            _core.SetResult(result);
        }

        private void Fail(Exception error)
        {
            _buffer = default;
            Settled();
            _core.SetException(error);
        }

        /// <summary>No longer among the answers the loop expects.</summary>
        private void Settled()
        {
            if (_awaited)
            {
                _awaited = false;
                stream._loop.Awaiting(-1);
            }
        }

        public int GetResult(short token) => _core.GetResult(token);

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
