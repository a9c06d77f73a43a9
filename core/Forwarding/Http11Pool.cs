using System.Net.Security;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// The HTTP/1.1 connections to one upstream address. Idle connections are reused last-in first-out, so
/// the busy ones stay warm and the spare ones age out. A request that finds none idle waits for the first
/// connection to come free or to be opened, whichever is first; a connection is opened when, and only when, the waiters
/// outnumber the openings under way, at most <see cref="MaxOpening"/> at once. So a burst of new requests (a restart, a failover) costs a few handshakes, not one per
/// request: each mTLS handshake costs a millisecond or two of CPU (bench/dataplane/burst.sh). A sweep
/// (<see cref="Sweep"/>, about once a second) closes connections idle past the idle timeout, and aborts an
/// exchange that went silent past its activity timeout or whose caller left.
/// </summary>
internal sealed class Http11Pool : IDisposable
{
    private readonly string _host;
    private readonly int _port;
    private readonly SslClientAuthenticationOptions? _tls;
    private readonly TimeSpan _connectTimeout;
    private readonly long _idleTimeoutMs;
    private readonly Stack<Http11Connection> _idle = new();
    private readonly HashSet<Http11Connection> _all = new();
    private readonly Queue<TaskCompletionSource<Http11Connection>> _waiters = new();
    private int _waiting; // waiters not yet served, failed, cancelled or timed out (the queue also holds finished ones)
    private readonly Lock _lock = new();
    private int _opening;
    private bool _disposed;

    /// <summary>Connections being opened at once, at most.</summary>
    public const int MaxOpening = 8;

    public Http11Pool(string host, int port, SslClientAuthenticationOptions? tls, TimeSpan connectTimeout, TimeSpan idleTimeout)
    {
        _host = host;
        _port = port;
        _tls = tls;
        _connectTimeout = connectTimeout;
        _idleTimeoutMs = (long)idleTimeout.TotalMilliseconds;
    }

    public string Address => $"{_host}:{_port}";

    /// <summary>Open connections, idle or busy.</summary>
    public int Count { get { lock (_lock) return _all.Count; } }

    public int IdleCount { get { lock (_lock) return _idle.Count; } }

    /// <summary>
    /// Below this idle time a connection is taken without asking the kernel whether the upstream closed it: the check
    /// is a system call per request (one in seven, bench/dataplane), and a request that can be sent again is, on a new
    /// connection, when a reused one fails before any answer.
    /// </summary>
    private const long TrustedIdleMs = 1000;

    /// <summary>A pooled connection that still looks usable, or null when none is idle.</summary>
    /// <param name="verify">Check even a briefly idle connection (the request could not be sent twice).</param>
    public Http11Connection? TryRentIdle(bool verify)
    {
        while (true)
        {
            Http11Connection? connection;
            lock (_lock)
            {
                if (!_idle.TryPop(out connection))
                    return null;
                connection.Idle = false;
            }
            var idle = Environment.TickCount64 - connection.IdleSince;
            if (idle < _idleTimeoutMs && !connection.IsAborted && ((idle < TrustedIdleMs && !verify) || connection.LooksReusable()))
                return connection;
            Close(connection);
        }
    }

    /// <summary>
    /// An idle connection, or else the first one to come free or be opened (opening one if fewer than
    /// <see cref="MaxOpening"/> are). Waiting is bounded by the connect timeout and by <paramref name="cancellationToken"/>.
    /// </summary>
    public ValueTask<Http11Connection> RentAsync(bool verify, CancellationToken cancellationToken)
    {
        var idle = TryRentIdle(verify);
        return idle is not null ? new(idle) : WaitAsync(verify, cancellationToken);
    }

    private async ValueTask<Http11Connection> WaitAsync(bool verify, CancellationToken cancellationToken)
    {
        // Completed outside the lock's holder: the waiting request goes on on its own thread, not inside Return.
        var waiter = new TaskCompletionSource<Http11Connection>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool open;
        while (true)
        {
            lock (_lock)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_idle.Count == 0)
                {
                    _waiters.Enqueue(waiter);
                    Interlocked.Increment(ref _waiting);
                    open = StartOpening();
                    break;
                }
            }
            // One came back since TryRentIdle looked: take it rather than wait.
            if (TryRentIdle(verify) is { } idle)
                return idle;
        }
        if (open)
            _ = OpenForWaitersAsync();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_connectTimeout);
        await using var registration = deadline.Token.UnsafeRegister(static state =>
        {
            var (pool, waiting) = ((Http11Pool, TaskCompletionSource<Http11Connection>))state!;
            if (waiting.TrySetCanceled())
                Interlocked.Decrement(ref pool._waiting);
        }, (this, waiter)).ConfigureAwait(false);
        try
        {
            return await waiter.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no connection to {Address} came free or could be opened within {_connectTimeout.TotalSeconds:0.###} s");
        }
    }

    /// <summary>Opens one connection for the queue: it goes to the first live waiter, or to the idle stack.</summary>
    private async Task OpenForWaitersAsync()
    {
        Http11Connection? connection = null;
        Exception? failure = null;
        try
        {
            connection = await Http11Connection.ConnectAsync(_host, _port, _tls, _connectTimeout, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            failure = e;
        }
        bool openAnother;
        lock (_lock)
        {
            _opening--;
            if (connection is not null && !_disposed)
            {
                _all.Add(connection);
                if (!HandOver(connection))
                    Park(connection);
                connection = null;
            }
            else
            {
                failure ??= new ObjectDisposedException(nameof(Http11Pool), $"the client for {Address} was retired");
                // The first waiter takes the failure (and is retried elsewhere by its caller); the others keep waiting.
                while (_waiters.TryDequeue(out var waiter))
                {
                    if (waiter.TrySetException(failure))
                    {
                        Interlocked.Decrement(ref _waiting);
                        break;
                    }
                }
            }
            // After a success too: the connections handed out may stay busy past the waiters' timeout (a long poll,
            // a stream), so the waiters this opening's end left without one get an opening of their own.
            openAnother = StartOpening();
        }
        connection?.Dispose();
        if (openAnother)
            _ = OpenForWaitersAsync();
    }

    // Called under _lock: counts in one more opening when the waiters outnumber those under way and fewer than
    // MaxOpening are; only as many as no opening will serve, for a connection that comes free is usually sooner than a handshake.
    private bool StartOpening()
    {
        if (_disposed || _opening >= MaxOpening || Volatile.Read(ref _waiting) <= _opening)
            return false;
        _opening++;
        return true;
    }

    // Called under _lock: gives the connection to the first waiter still waiting.
    private bool HandOver(Http11Connection connection)
    {
        while (_waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult(connection))
            {
                Interlocked.Decrement(ref _waiting);
                return true;
            }
        }
        return false;
    }

    // Called under _lock.
    private void Park(Http11Connection connection)
    {
        connection.IdleSince = Environment.TickCount64;
        connection.Idle = true;
        _idle.Push(connection);
    }

    /// <summary>Opens a new connection now, outside the queue (a retry after a reused connection failed).</summary>
    public async ValueTask<Http11Connection> ConnectAsync(CancellationToken cancellationToken)
    {
        var connection = await Http11Connection.ConnectAsync(_host, _port, _tls, _connectTimeout, cancellationToken).ConfigureAwait(false);
        lock (_lock)
        {
            if (!_disposed)
            {
                _all.Add(connection);
                return connection;
            }
        }
        connection.Dispose();
        throw new ObjectDisposedException(nameof(Http11Pool), $"the client for {Address} was retired");
    }

    /// <summary>Gives a connection back after a complete exchange; closes it instead when <paramref name="reusable"/> is false.</summary>
    public void Return(Http11Connection connection, bool reusable)
    {
        connection.Finish();
        if (reusable && !connection.IsAborted)
        {
            connection.Reused = true;
            lock (_lock)
            {
                if (!_disposed)
                {
                    if (!HandOver(connection))
                        Park(connection);
                    return;
                }
            }
        }
        Close(connection);
    }

    public void Close(Http11Connection connection)
    {
        lock (_lock)
            _all.Remove(connection);
        connection.Dispose();
    }

    /// <summary>Closes expired idle connections and aborts stalled or abandoned exchanges; true when the pool is empty.</summary>
    public bool Sweep()
    {
        var now = Environment.TickCount64;
        List<Http11Connection>? expired = null;
        List<(Http11Connection, AbortReason, long)>? abort = null;
        lock (_lock)
        {
            foreach (var connection in _all)
            {
                var exchange = connection.ExchangeNumber;
                if (exchange == 0)
                {
                    if (connection.Idle && now - connection.IdleSince >= _idleTimeoutMs)
                        (expired ??= new()).Add(connection);
                }
                else if (connection.CallerAborted.IsCancellationRequested)
                    (abort ??= new()).Add((connection, AbortReason.CallerLeft, exchange));
                else if (connection.Abandoned.IsCancellationRequested)
                    (abort ??= new()).Add((connection, AbortReason.Abandoned, exchange));
                else if (now - connection.LastActivity >= connection.ActivityTimeoutMs)
                    (abort ??= new()).Add((connection, AbortReason.TimedOut, exchange));
            }
            if (expired is not null)
            {
                // The oldest are at the bottom of the stack: keep the order of the rest.
                var keep = _idle.Where(c => c.Idle && now - c.IdleSince < _idleTimeoutMs).Reverse().ToArray();
                _idle.Clear();
                foreach (var connection in keep)
                    _idle.Push(connection);
                foreach (var connection in expired)
                    connection.Idle = false;
            }
        }
        if (expired is not null)
        {
            foreach (var connection in expired)
                Close(connection);
        }
        if (abort is not null)
        {
            foreach (var (connection, reason, exchange) in abort)
                connection.Abort(reason, exchange); // the exchange fails, and closes it through the pool
        }
        lock (_lock)
            return _all.Count == 0;
    }

    public void Dispose()
    {
        Http11Connection[] idle;
        lock (_lock)
        {
            if (_disposed)
                return;
            _disposed = true;
            idle = _idle.ToArray();
            _idle.Clear();
            var retired = new ObjectDisposedException(nameof(Http11Pool), $"the client for {Address} was retired");
            while (_waiters.TryDequeue(out var waiter))
            {
                if (waiter.TrySetException(retired))
                    Interlocked.Decrement(ref _waiting);
            }
        }
        foreach (var connection in idle)
            Close(connection);
        // Busy connections finish their exchange and are closed when returned.
    }
}
