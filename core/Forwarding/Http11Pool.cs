using System.Net.Security;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// The HTTP/1.1 connections to one upstream address. Idle connections are reused last-in first-out, so
/// the busy ones stay warm and the spare ones age out. A request that finds none idle waits for the first
/// connection to come free or to be opened, whichever is first; a connection is opened when, and only when, the waiters
/// outnumber the openings under way, at most one per processor at once (<see cref="DefaultMaxOpening"/>). So a burst of
/// new requests (a restart, a failover) costs a few handshakes, not one per request: each mTLS handshake costs a
/// millisecond or two of CPU, and on a sidecar's one processor eight at once all end eight handshakes later, while the
/// waiters could have had the first one, or a connection come free, long before (bench/dataplane/burst.sh: p99 of a
/// cold burst 113–170 ms with eight at once, 10–24 ms with one). A sweep
/// (<see cref="Sweep"/>, about once a second while a request holds or waits for a connection: <see cref="SweepTimer"/>)
/// closes connections idle past the idle timeout, and aborts an exchange that went silent past its activity timeout or
/// whose caller left.
/// </summary>
internal sealed partial class Http11Pool : IDisposable
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
    private readonly SweepTimer? _sweeps;
    private int _opening;
    private bool _disposed;

    /// <summary>
    /// Connections being opened at once, at most, by default: one per processor this process may use (its CPU limit or
    /// affinity, as <see cref="Environment.ProcessorCount"/> tells), up to 8. A handshake's work is CPU: more at once than
    /// there are processors to do them only makes every one of them end later.
    /// </summary>
    public static readonly int DefaultMaxOpening = Math.Clamp(Environment.ProcessorCount, 1, 8);

    private readonly int _maxOpening;

    /// <param name="sweeps">Told whenever a request takes or waits for a connection (null when the owner sweeps on its own).</param>
    /// <param name="maxOpening">Connections opened at once, at most (default <see cref="DefaultMaxOpening"/>).</param>
    public Http11Pool(string host, int port, SslClientAuthenticationOptions? tls, TimeSpan connectTimeout, TimeSpan idleTimeout,
        SweepTimer? sweeps = null, int? maxOpening = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOpening ?? 1, 1, nameof(maxOpening));
        _maxOpening = maxOpening ?? DefaultMaxOpening;
        _host = host;
        _port = port;
        _tls = tls;
        _connectTimeout = connectTimeout;
        _idleTimeoutMs = (long)idleTimeout.TotalMilliseconds;
        _sweeps = sweeps;
    }

    public string Address => $"{_host}:{_port}";

    /// <summary>Open connections, idle or busy.</summary>
    public int Count { get { lock (_lock) return _all.Count; } }

    public int IdleCount { get { lock (_lock) return _idle.Count; } }

    /// <summary>Requests waiting for a connection to come free or be opened.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>
    /// Below this idle time a connection is taken without asking the kernel whether the upstream closed it: the check
    /// is a system call per request (one in seven, bench/dataplane), and a request that can be sent again is, on a new
    /// connection, when a reused one fails before any answer.
    /// </summary>
    private const long TrustedIdleMs = 1000;

    /// <summary>
    /// A connection given back less than this long ago counts as in use for the sweeps' timing: under steady traffic
    /// that leaves every connection idle between requests (most of the time at 1,000 rps), the sweeps keep their period
    /// instead of stopping at each tick and being set going again by the next request.
    /// </summary>
    private const long QuietMs = 1000;

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
                _sweeps?.Demand();
            }
            var idle = Environment.TickCount64 - connection.IdleSince;
            if (idle < _idleTimeoutMs && !connection.IsAborted && ((idle < TrustedIdleMs && !verify) || connection.LooksReusable()))
                return connection;
            Close(connection);
        }
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
                _sweeps?.Demand();
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

    /// <summary>
    /// Closes expired idle connections and aborts stalled or abandoned exchanges. Returns when the pool next needs a
    /// sweep: <see cref="TimeSpan.Zero"/> while a request holds, waits for or opens a connection, or gave one back within
    /// the last second; when the first idle connection expires, if all have been idle longer; null when the pool is empty.
    /// </summary>
    public TimeSpan? Sweep()
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
        {
            if (_waiting > 0 || _opening > 0)
                return TimeSpan.Zero;
            var firstExpiry = long.MaxValue;
            foreach (var connection in _all)
            {
                if (!connection.Idle || now - connection.IdleSince < QuietMs)
                    return TimeSpan.Zero; // rented, in an exchange, or back from one only just
                firstExpiry = Math.Min(firstExpiry, connection.IdleSince + _idleTimeoutMs);
            }
            return firstExpiry == long.MaxValue ? null : TimeSpan.FromMilliseconds(Math.Max(0, firstExpiry - now));
        }
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
