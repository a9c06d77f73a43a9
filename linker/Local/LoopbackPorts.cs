using System.Net;
using System.Net.Sockets;

namespace FedMesh.Linker.Local;

/// <summary>
/// Hands out the loopback ports of one local federation's parts. A port is chosen when the home is created and bound
/// only when its part starts, then again at every later <c>up</c>. A port from the kernel's ephemeral range (Linux:
/// <c>net.ipv4.ip_local_port_range</c>, 32768–60999 by default) can meanwhile become the source port of any outgoing
/// connection on the machine, and the part then cannot bind it until that connection closes. So on Linux the ports
/// come from below that range (20000 up to its start), which the kernel never hands out on its own: one run of
/// consecutive ports from a random start, so that two homes created at once rarely overlap, each checked free by
/// binding it. Elsewhere, or when that span is too small, the kernel picks each one as before.
/// </summary>
internal sealed class LoopbackPorts
{
    /// <summary>The lowest port handed out: above the well-known and most registered service ports.</summary>
    public const int QuietLow = 20000;

    private const int MinimumSpan = 1000;
    private const int Attempts = 200;
    private const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";

    private readonly HashSet<int> _taken = [];
    private readonly Random _random;
    private int _next; // the next candidate of the current run; 0 before the first

    /// <param name="random">Where runs start (tests seed it).</param>
    /// <param name="ephemeralRange">The kernel's range as it writes it; read from /proc on Linux when null.</param>
    public LoopbackPorts(Random? random = null, string? ephemeralRange = null)
    {
        _random = random ?? Random.Shared;
        Span = QuietSpan(ephemeralRange ?? ReadEphemeralRange());
    }

    /// <summary>The span handed out from ([low, high)), or null when the kernel picks.</summary>
    public (int Low, int High)? Span { get; }

    /// <summary>The span below <paramref name="ephemeralRange"/> to hand ports out from, or null when it is too small.</summary>
    public static (int Low, int High)? QuietSpan(string? ephemeralRange)
    {
        if (ParseRange(ephemeralRange) is not { } ephemeral)
            return null;
        var high = Math.Min(ephemeral.Low, 32768);
        return high - QuietLow >= MinimumSpan ? (QuietLow, high) : null;
    }

    /// <summary>"32768\t60999" as the kernel writes it; null when it is not two ports, low first.</summary>
    public static (int Low, int High)? ParseRange(string? text)
    {
        var parts = text?.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts is not { Length: 2 } || !int.TryParse(parts[0], out var low) || !int.TryParse(parts[1], out var high)
            || low < 1 || high > 65535 || low > high)
            return null;
        return (low, high);
    }

    /// <summary>A port already given to a part (named in the federation file): never handed out.</summary>
    public void Reserve(int port) => _taken.Add(port);

    /// <summary>A free loopback port, different from every one reserved or handed out so far.</summary>
    public int Next()
    {
        if (Span is { } span)
        {
            for (var i = 0; i < Attempts; i++)
            {
                if (_next == 0 || _next >= span.High)
                    _next = _random.Next(span.Low, span.High);
                var port = _next++;
                if (!_taken.Contains(port) && IsFree(port))
                {
                    _taken.Add(port);
                    return port;
                }
            }
        }
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (_taken.Add(port)) return port;
        }
    }

    private static string? ReadEphemeralRange()
    {
        try
        {
            return OperatingSystem.IsLinux() ? File.ReadAllText(RangeFile) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
