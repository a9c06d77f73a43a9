using System.Diagnostics;
using System.Globalization;

namespace FedMesh.Core.Transport;

/// <summary>
/// Busy polling of the data plane's socket loops, off unless asked for (<see cref="Variable"/>). On a virtual machine a
/// core with nothing to run halts, and waking it for the next event costs tens of microseconds (a VM exit and a turn of
/// the host's scheduler): a proxy at low load pays that for each request and again for each answer. A
/// <see cref="SocketLoop"/> that expects an answer (a read of a connection this process opened is waiting: the request
/// went out, the response has not come) polls epoll for up to a window before it sleeps, and gives the core to any other
/// runnable thread between two polls (the app, or a gateway on the same core). A window that ends with nothing makes the
/// loop sleep at once the next 1, 2, 4 … 64 times it expects an answer, so an upstream slower than the window costs one
/// window now and then, not one per request. Idle, nothing is expected; at saturation something is always ready: polling
/// costs CPU only in between (bench/README.md, "Busy polling").
/// </summary>
public static class BusyPolling
{
    /// <summary>The window in microseconds: 0 or unset, off; at most <see cref="MaxMicroseconds"/>.</summary>
    public const string Variable = "FEDMESH_BUSY_POLL_US";

    public const int MaxMicroseconds = 1000;

    /// <summary>What a window must be, as errors say it.</summary>
    public static readonly string Rule = $"give whole microseconds from 0 (off) to {MaxMicroseconds}, e.g. 100";

    private static long s_window; // Stopwatch ticks; 0: off

    /// <summary>Whether <paramref name="microseconds"/> is a window (<see cref="Rule"/>): 0 (off) to <see cref="MaxMicroseconds"/>.</summary>
    public static bool IsWindow(int microseconds) => microseconds is >= 0 and <= MaxMicroseconds;

    /// <summary>The window every socket loop polls for an expected answer, in microseconds (0: off).</summary>
    public static int Microseconds
    {
        get => (int)(Volatile.Read(ref s_window) * 1_000_000 / Stopwatch.Frequency);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxMicroseconds);
            Volatile.Write(ref s_window, value * Stopwatch.Frequency / 1_000_000);
        }
    }

    /// <summary>The window in Stopwatch ticks (0: off).</summary>
    internal static long Window => Volatile.Read(ref s_window);

    /// <summary>
    /// Sets <see cref="Microseconds"/> from <see cref="Variable"/>; adds a sentence to <paramref name="errors"/> (and
    /// leaves polling off) when its value is not a window.
    /// </summary>
    public static void FromEnvironment(ICollection<string> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        if (!TryParse(Environment.GetEnvironmentVariable(Variable), out var microseconds, out var error))
            errors.Add(error!);
        Microseconds = microseconds;
    }

    /// <summary>
    /// Reads the window from <paramref name="text"/> (the variable's value): unset, empty or 0 is off. False, with a
    /// sentence saying why, when it is not a whole number of microseconds from 0 to <see cref="MaxMicroseconds"/>.
    /// </summary>
    public static bool TryParse(string? text, out int microseconds, out string? error)
    {
        microseconds = 0;
        error = null;
        if (string.IsNullOrWhiteSpace(text))
            return true;
        if (int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out microseconds) && IsWindow(microseconds))
            return true;
        microseconds = 0;
        error = $"{Variable} '{text}' is not a busy-poll window: {Rule}.";
        return false;
    }

    /// <summary>Windows of every socket loop so far: those an event came in, and those that ended with nothing.</summary>
    public static (long Hits, long Misses) Counts() => SocketLoop.BusyPolls();
}

/// <summary>
/// A loop's busy polling (<see cref="BusyPolling"/>): when to poll, when to sleep, and what came of it. Used by the
/// loop's thread alone; the counters are read by others.
/// </summary>
internal struct BusyPollWindow
{
    /// <summary>The most waits a loop sleeps through at once after windows that ended with nothing.</summary>
    internal const int MaxSkip = 64;

    private long _until; // while polling: when the window ends (Stopwatch ticks); else 0
    private int _skip;
    private int _backoff;

    /// <summary>Windows in which an event came, and windows that ended with nothing.</summary>
    public long Hits, Misses;

    /// <summary>
    /// The next <c>epoll_wait</c>'s timeout while an answer is expected: 0 (poll) within a window of
    /// <paramref name="window"/> ticks from the first call, -1 (sleep) once it ended, and while backing off.
    /// </summary>
    public int Expecting(long window, long now)
    {
        if (_until == 0)
        {
            if (_skip > 0)
            {
                _skip--;
                return -1;
            }
            _until = now + window;
            return 0;
        }
        if (now < _until)
            return 0;
        _until = 0;
        _backoff = Math.Min(Math.Max(1, _backoff * 2), MaxSkip);
        _skip = _backoff;
        Volatile.Write(ref Misses, Misses + 1);
        return -1;
    }

    /// <summary>The next timeout when no answer is expected (or polling is off): sleep; a window under way ends.</summary>
    public int Idle()
    {
        _until = 0;
        return -1;
    }

    /// <summary>Events came: a window under way paid off, and the backing off starts over.</summary>
    public void Came()
    {
        if (_until == 0)
            return;
        _until = 0;
        _backoff = 0;
        Volatile.Write(ref Hits, Hits + 1);
    }
}
