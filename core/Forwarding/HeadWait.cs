using System.Diagnostics;
using System.IO.Pipelines;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// A client connection's wait for its next request head, with its deadline (the keep-alive while the connection is
/// idle, the head timeout once a head has begun) and the server's request to close: either ends the wait by cancelling
/// the pending read, and the connection closes. Per request it costs a timestamp and two uncontended locks: the timer is
/// armed only when the new deadline comes before the one it is armed for, and when it fires with the deadline moved on
/// (requests came meanwhile) it is armed again for the rest, so a busy connection moves it about once a keep-alive.
/// A <see cref="CancellationTokenSource"/> given the deadline with <c>CancelAfter</c> moved a runtime timer and
/// registered a token with the pipe on every request (about 1 % of the proxy's CPU at 1,000 rps, bench/README.md).
/// </summary>
internal sealed class HeadWait : IDisposable
{
    private readonly PipeReader _input;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _closing;
    private readonly Lock _lock = new();
    private long _deadline; // Stopwatch timestamp the waiting read ends at
    private long _armedFor; // Stopwatch timestamp the timer fires at; 0: not armed
    private bool _waiting;  // a head read is pending (between Begin and Finish)
    private bool _ended;    // the deadline passed or the server is closing: the connection closes
    private bool _disposed;

    /// <param name="input">The connection's input, whose pending read an end cancels.</param>
    /// <param name="closing">The server asks its connections to close: a waiting connection closes at once.</param>
    public HeadWait(PipeReader input, CancellationToken closing)
    {
        _input = input;
        _timer = TimeProvider.System.CreateTimer(static state => ((HeadWait)state!).OnTimer(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _closing = closing.UnsafeRegister(static state => ((HeadWait)state!).OnClosing(), this);
    }

    /// <summary>Before a head read: the read is to end within <paramref name="left"/>. False when the wait has already ended.</summary>
    public bool Begin(TimeSpan left)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(left.TotalSeconds * Stopwatch.Frequency);
        lock (_lock)
        {
            if (_ended || _disposed)
                return false;
            _deadline = deadline;
            _waiting = true;
            if (_armedFor == 0 || deadline < _armedFor)
            {
                _armedFor = deadline;
                _timer.Change(left, Timeout.InfiniteTimeSpan);
            }
            return true;
        }
    }

    /// <summary>
    /// After the read: false when the wait ended (the deadline passed, or the server is closing), whatever the read
    /// returned; the pending read may then have been cancelled, and the connection is to close.
    /// </summary>
    public bool Finish()
    {
        lock (_lock)
        {
            _waiting = false;
            return !_ended;
        }
    }

    private void OnTimer()
    {
        lock (_lock)
        {
            _armedFor = 0;
            if (_ended || _disposed || !_waiting)
                return; // a request is under way: the next Begin arms the timer again
            var now = Stopwatch.GetTimestamp();
            if (now < _deadline)
            {
                _armedFor = _deadline;
                _timer.Change(Stopwatch.GetElapsedTime(now, _deadline), Timeout.InfiniteTimeSpan);
                return;
            }
            _ended = true;
        }
        _input.CancelPendingRead(); // outside the lock: the relay's continuation may run inline
    }

    private void OnClosing()
    {
        bool waiting;
        lock (_lock)
        {
            if (_ended || _disposed)
                return;
            _ended = true;
            waiting = _waiting;
        }
        if (waiting)
            _input.CancelPendingRead(); // between requests: closed at once; a request under way finishes first
    }

    /// <summary>Stops the timer and the closing callback (before the connection goes to Kestrel, or when it ends). Idempotent.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
        }
        _timer.Dispose();
        _closing.Dispose(); // waits for a closing callback under way, so none runs after this
    }
}
