namespace FedMesh.Core.Forwarding;

// The waiting queue: a request that finds no idle connection waits for one to come free or be opened.
internal sealed partial class Http11Pool
{
    /// <summary>
    /// An idle connection, or else the first one to come free or be opened (opening one if fewer than
    /// the pool's most at once are). Waiting is bounded by the connect timeout and by <paramref name="cancellationToken"/>.
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
                    _sweeps?.Demand();
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
    // the most at once are; only as many as no opening will serve, for a connection that comes free is usually sooner than a handshake.
    private bool StartOpening()
    {
        if (_disposed || _opening >= _maxOpening || Volatile.Read(ref _waiting) <= _opening)
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
}
