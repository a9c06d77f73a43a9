using System.Diagnostics;

namespace FedMesh.Tests.Shared;

/// <summary>Polls until a condition holds or a deadline passes: every wait in the tests is bounded, none is a bare sleep.</summary>
internal static class Eventually
{
    /// <summary>How long a wait lasts unless told otherwise.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long a wait pauses between probes unless told otherwise.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Probes until <paramref name="done"/> accepts the value, and returns that value. A probe (or check) that throws is
    /// remembered and tried again; past the timeout a <see cref="TimeoutException"/> names <paramref name="what"/>, the
    /// timeout, the last value and the last error.
    /// </summary>
    public static async Task<T> ValueAsync<T>(Func<Task<T>> probe, Func<T, bool> done, string what, TimeSpan? timeout = null, TimeSpan? interval = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        var last = default(T);
        Exception? error = null;
        while (true)
        {
            try
            {
                last = await probe();
                if (done(last))
                    return last;
            }
            catch (Exception e)
            {
                error = e;
            }
            if (clock.Elapsed >= limit)
                throw new TimeoutException($"timed out after {limit.TotalSeconds:0.###} s waiting for {what}; last value: {last?.ToString() ?? "none"}; "
                    + $"last error: {(error is null ? "none" : $"{error.GetType().Name}: {error.Message}")}", error);
            await Task.Delay(interval ?? DefaultInterval);
        }
    }

    /// <summary>Probes until <paramref name="probe"/> returns true (see <see cref="ValueAsync{T}"/>).</summary>
    public static Task TrueAsync(Func<Task<bool>> probe, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        ValueAsync(probe, holds => holds, what, timeout, interval);

    /// <summary>Checks until <paramref name="condition"/> holds (see <see cref="ValueAsync{T}"/>).</summary>
    public static Task TrueAsync(Func<bool> condition, string what, TimeSpan? timeout = null, TimeSpan? interval = null) =>
        ValueAsync(() => Task.FromResult(condition()), holds => holds, what, timeout, interval);
}
