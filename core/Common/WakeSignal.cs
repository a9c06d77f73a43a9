namespace FedMesh.Core.Common;

/// <summary>
/// Wakes a loop that looks at everything when it wakes (a supervisor, a controller): any number of
/// <see cref="Set"/> calls before it waits count as one, and one made while it works is not lost.
/// </summary>
public sealed class WakeSignal : IDisposable
{
    private readonly SemaphoreSlim _set = new(0, 1);

    public void Set()
    {
        if (_set.CurrentCount == 0)
        {
            try { _set.Release(); }
            catch (SemaphoreFullException) { } // set by another thread meanwhile
        }
    }

    /// <summary>
    /// Waits until set (true, and the signal is taken) or, with a <paramref name="timeout"/>, until that passes on
    /// <paramref name="time"/>'s clock (false). Throws <see cref="OperationCanceledException"/> when
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public async Task<bool> WaitAsync(TimeSpan? timeout, TimeProvider time, CancellationToken cancellationToken)
    {
        if (timeout is not { } after)
        {
            await _set.WaitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        using var due = new CancellationTokenSource(after > TimeSpan.Zero ? after : TimeSpan.Zero, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, due.Token);
        try
        {
            await _set.WaitAsync(either.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Takes the signal if it is set, without waiting: true if it was.</summary>
    public bool TryTake() => _set.Wait(0);

    public void Dispose() => _set.Dispose();
}
