using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

/// <summary>
/// One connection's share of a schedule: where it sends, its requests' intended send times (CLOCK_MONOTONIC ns) and
/// which of them are measured. Driven on a thread of its own (<see cref="Lanes.Drive"/>), which fills
/// <see cref="Latencies"/> (ns, measured requests only) and <see cref="Errors"/>.
/// </summary>
internal sealed class Lane(int row, IPEndPoint target, byte[] request, Socket? socket, long[] intended, bool[] measured)
{
    public int Row { get; } = row;
    public IPEndPoint Target { get; } = target;
    public byte[] Request { get; } = request;
    /// <summary>A kept-alive connection, or null: each request on a connection of its own (--fresh), whose opening counts in its time.</summary>
    public Socket? Socket { get; } = socket;
    public long[] Intended { get; } = intended;
    public bool[] Measured { get; } = measured;
    public List<long> Latencies { get; } = new(intended.Length);
    public int Errors { get; set; }
}

internal static class Lanes
{
    /// <summary>Opens a connection with Nagle's algorithm off.</summary>
    public static Socket Open(IPEndPoint target)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        s.Connect(target);
        return s;
    }

    /// <summary>The GET request every connection sends (with <paramref name="close"/>, asking the server to close).</summary>
    public static byte[] Request(string path, string host, bool close = false) =>
        Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: fedmesh-loadgen\r\n"
            + (close ? "Connection: close\r\n" : "") + "\r\n");

    /// <summary>When a schedule built now may start: 20 ms to get every thread waiting, 1 ms more per 10 threads.</summary>
    public static long StartTime(int threads) => Stopwatch.GetTimestamp() + 20_000_000 + threads * 100_000L;

    /// <summary>
    /// Sends every lane's requests at their intended times, one blocking thread per lane, and times each from its
    /// intended send time to its answer read. A measured request slower than <paramref name="slowMs"/> (when above 0) is listed on
    /// stderr (its row's name if it has one, intended send time in UTC, latency and local port). A broken kept-alive
    /// connection ends its lane's share of the schedule.
    /// </summary>
    public static void Drive(Lane[] lanes, string?[] rowNames, double slowMs)
    {
        var slowNs = slowMs > 0 ? (long)(slowMs * 1e6) : long.MaxValue;
        var wallAtStart = DateTime.UtcNow.Ticks - Stopwatch.GetTimestamp() / 100; // UTC ticks (100 ns) at monotonic 0
        var threads = new Thread[lanes.Length];
        for (var l = 0; l < lanes.Length; l++)
        {
            var lane = lanes[l];
            threads[l] = new Thread(() =>
            {
                var buffer = new byte[64 * 1024];
                var reader = lane.Socket is null ? null : new ResponseReader(lane.Socket, buffer);
                for (var i = 0; i < lane.Intended.Length; i++)
                {
                    var intended = lane.Intended[i];
                    Native.SleepUntil(intended);
                    var socket = lane.Socket;
                    try
                    {
                        socket ??= Open(lane.Target);
                        socket.Send(lane.Request);
                        var status = (reader ?? new ResponseReader(socket, buffer)).ReadResponse();
                        var done = Stopwatch.GetTimestamp();
                        if (status is < 200 or >= 400) lane.Errors++;
                        else if (lane.Measured[i]) lane.Latencies.Add(done - intended);
                        if (lane.Measured[i] && done - intended > slowNs)
                            Console.Error.WriteLine($"slow {(rowNames[lane.Row] is { } name ? name + " " : "")}{new DateTime(wallAtStart + intended / 100, DateTimeKind.Utc):HH:mm:ss.ffffff} "
                                + $"{(done - intended) / 1e3:F0} us port {(socket.LocalEndPoint as IPEndPoint)?.Port}");
                    }
                    catch (Exception e) when (e is SocketException or IOException)
                    {
                        lane.Errors++;
                        if (lane.Socket is not null)
                            return;
                    }
                    finally
                    {
                        if (lane.Socket is null)
                            socket?.Dispose();
                    }
                }
            }) { IsBackground = true, Name = $"conn-{l}" };
        }
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
    }

    /// <summary>
    /// One row's figures from its lanes after <see cref="Drive"/>: every measured latency together, over
    /// <paramref name="seconds"/> of that row's measured time; the sorted latencies in µs to <paramref name="latenciesFile"/>,
    /// one a line, if given (to pool several runs).
    /// </summary>
    public static Result Summarize(IEnumerable<Lane> lanes, double seconds, string? latenciesFile)
    {
        var all = new List<long>();
        var errors = 0;
        foreach (var lane in lanes)
        {
            all.AddRange(lane.Latencies);
            errors += lane.Errors;
        }
        all.Sort();
        if (latenciesFile is not null)
        {
            using var file = new StreamWriter(latenciesFile);
            foreach (var ns in all)
                file.WriteLine((ns / 1e3).ToString("F1", System.Globalization.CultureInfo.InvariantCulture));
        }
        return new Result(all.Count, errors, seconds, all.Count / seconds,
            Pct(all, 50), Pct(all, 90), Pct(all, 99), Pct(all, 99.9), all.Count > 0 ? all[^1] / 1e3 : 0);
    }

    private static double Pct(List<long> sorted, double p)
    {
        if (sorted.Count == 0) return 0;
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)] / 1e3; // µs
    }
}
