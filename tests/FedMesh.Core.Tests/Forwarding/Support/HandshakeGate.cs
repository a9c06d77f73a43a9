namespace FedMesh.Core.Tests.Forwarding.Support;

/// <summary>
/// A <see cref="ScriptedUpstream"/>'s <c>beforeHandshake</c> hook that keeps TLS connections from opening: the first
/// <c>free</c> accepted connections go through at once, the rest wait (<c>delay</c>, then until <see cref="Open"/>), and
/// those after the first <c>firstWave</c> until <see cref="OpenLater"/> as well.
/// Over TLS a connection the client opens stays opening while it is held here, so <see cref="Peak"/> is a lower
/// bound on the openings the client had under way at once.
/// </summary>
internal sealed class HandshakeGate(int free = 0, TimeSpan delay = default, bool open = false, int firstWave = int.MaxValue)
{
    private readonly TaskCompletionSource _open = NewOpen(open);
    private readonly TaskCompletionSource _later = NewOpen(firstWave == int.MaxValue);
    private int _holding;
    private int _peak;
    private int _released;

    /// <summary>Accepted connections held before their handshake now.</summary>
    public int Holding => Volatile.Read(ref _holding);

    /// <summary>The most held at once.</summary>
    public int Peak => Volatile.Read(ref _peak);

    /// <summary>Connections let through to their handshake.</summary>
    public int Released => Volatile.Read(ref _released);

    /// <summary>Lets every held connection (and every later one, after the delay) go on to its handshake.</summary>
    public void Open() => _open.TrySetResult();

    /// <summary>Lets the connections after the first wave go on too (once <see cref="Open"/> has).</summary>
    public void OpenLater() => _later.TrySetResult();

    public async Task HoldAsync(int number, CancellationToken stopped)
    {
        if (number > free)
        {
            var holding = Interlocked.Increment(ref _holding);
            for (var peak = Peak; holding > peak; peak = Peak)
                Interlocked.CompareExchange(ref _peak, holding, peak);
            try
            {
                if (delay > TimeSpan.Zero)
                    await Task.Delay(delay, stopped);
                await _open.Task.WaitAsync(stopped); // an upstream never opened is stopped when the test ends
                if (number > firstWave)
                    await _later.Task.WaitAsync(stopped);
            }
            finally
            {
                Interlocked.Decrement(ref _holding);
            }
        }
        Interlocked.Increment(ref _released);
    }

    private static TaskCompletionSource NewOpen(bool open)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (open)
            source.TrySetResult();
        return source;
    }
}
