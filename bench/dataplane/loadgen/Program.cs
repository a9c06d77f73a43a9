// A constant-rate ("open model") HTTP/1.1 load generator, in the spirit of wrk2: every request has
// an intended send time on a fixed schedule, and its latency is measured from that time, not from
// when it was actually sent, so a stalled server is charged for the requests it delayed
// (no coordinated omission). One blocking socket per connection on its own thread, woken with
// clock_nanosleep(TIMER_ABSTIME) and a 1 ns timer slack, so pacing jitter stays in microseconds.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

if (args.Length == 2 && args[0] == "--stall-probe" && double.TryParse(args[1], System.Globalization.CultureInfo.InvariantCulture, out var probeSeconds)
    && probeSeconds is > 0 and <= 60)
{
    Console.WriteLine(JsonSerializer.Serialize(StallProbe.Run(probeSeconds), LoadGenJson.Default.StallResult));
    return 0;
}
if (Stopwatch.Frequency != 1_000_000_000)
{
    Console.Error.WriteLine($"loadgen: Stopwatch frequency is {Stopwatch.Frequency}, expected CLOCK_MONOTONIC in ns");
    return 1;
}
Native.prctl(29 /* PR_SET_TIMERSLACK */, 1, 0, 0, 0); // inherited by every thread started after this
if (args.Length > 0 && args[0] == "--interleave")
    return Interleave.Run(args[1..]);
var opts = Options.Parse(args);
if (opts is null)
{
    Console.Error.WriteLine("usage: loadgen --target host:port --host HOST [--path /] --rate RPS --connections N --seconds S [--warmup S] [--fresh] [--slow-ms MS] [--latencies FILE]");
    Console.Error.WriteLine("       (--slow-ms: each measured request slower than MS is listed on stderr: its intended send time (UTC),");
    Console.Error.WriteLine("        latency and the connection's local port, to find it in a packet or scheduler record)");
    Console.Error.WriteLine("       (--latencies: every measured request's latency in µs, one a line, sorted, to FILE: to pool several runs)");
    Console.Error.WriteLine("       (--fresh: a new connection for every request, opened at its intended send time; it asks the server to close)");
    Console.Error.WriteLine("       loadgen --stall-probe SECONDS   (0 < SECONDS <= 60)");
    Console.Error.WriteLine(Interleave.Usage);
    return 2;
}

var request = Lanes.Request(opts.Path, opts.Host, close: opts.Fresh);
var sockets = new Socket?[opts.Connections];
if (!opts.Fresh)
    for (var i = 0; i < sockets.Length; i++)
        sockets[i] = Lanes.Open(opts.Target);

// Warm-up at the same rate (JIT, pools), then the measured run on a fresh schedule.
if (opts.Warmup > 0)
    Lanes.Drive(Schedule(sockets, opts.Target, request, opts.Rate, opts.Warmup, record: false), [null], slowMs: 0);
var lanes = Schedule(sockets, opts.Target, request, opts.Rate, opts.Seconds, record: true);
var began = Stopwatch.GetTimestamp();
Lanes.Drive(lanes, [null], opts.SlowMs);
var result = Lanes.Summarize(lanes, (Stopwatch.GetTimestamp() - began) / 1e9, opts.LatenciesFile);
foreach (var s in sockets) s?.Dispose();
Console.WriteLine(JsonSerializer.Serialize(result, LoadGenJson.Default.Result));
return result.Errors > 0 && result.Requests == 0 ? 1 : 0;

// One lane per connection: request k of the run, intended at start + k / rate, goes to connection k mod n.
static Lane[] Schedule(Socket?[] sockets, IPEndPoint target, byte[] request, double rate, double seconds, bool record)
{
    var n = sockets.Length;
    var total = (long)(rate * seconds);
    var periodNs = 1e9 / rate;
    var start = Lanes.StartTime(n);
    var lanes = new Lane[n];
    for (var c = 0; c < n; c++)
    {
        var count = (int)((total - c + n - 1) / n);
        var intended = new long[Math.Max(0, count)];
        for (var i = 0; i < intended.Length; i++)
            intended[i] = start + (long)((c + (long)i * n) * periodNs);
        var measured = new bool[intended.Length];
        Array.Fill(measured, record);
        lanes[c] = new Lane(0, target, request, sockets[c], intended, measured);
    }
    return lanes;
}

/// <summary>
/// How much of its core a spinning thread did not get: it reads the clock in a loop for the given time and counts
/// every gap between two reads of 20 µs or more (an interrupt, another thread, or the hypervisor running another
/// machine on this virtual core). Run before and after the measurements, pinned to each core in turn, it says how
/// much of a row's tail latency the host alone can explain.
/// </summary>
internal static class StallProbe
{
    public static StallResult Run(double seconds)
    {
        const long Gap = 20_000, Mid = 200_000, Long = 1_000_000; // ns
        long gaps = 0, mid = 0, longer = 0, lost = 0, max = 0;
        var start = Stopwatch.GetTimestamp();
        var end = start + (long)(seconds * 1e9);
        var previous = start;
        while (true)
        {
            var now = Stopwatch.GetTimestamp();
            var gap = now - previous;
            previous = now;
            if (gap >= Gap)
            {
                gaps++;
                lost += gap;
                if (gap >= Mid) mid++;
                if (gap >= Long) longer++;
                if (gap > max) max = gap;
            }
            if (now >= end) break;
        }
        var elapsed = (previous - start) / 1e9;
        return new StallResult(elapsed, lost / 1e7 / elapsed, gaps / elapsed, mid / elapsed, longer / elapsed, max / 1e3);
    }
}

/// <summary>The stall probe's figures: share of the time lost (%), stalls of ≥ 20 µs, ≥ 200 µs and ≥ 1 ms per second, the longest (µs).</summary>
internal sealed record StallResult(double Seconds, double LostPct, double StallsPerSec, double Over200UsPerSec, double Over1MsPerSec, double MaxUs);

/// <summary>Latency figures in microseconds, measured from each request's intended send time.</summary>
internal sealed record Result(int Requests, int Errors, double Seconds, double Rps, double P50Us, double P90Us, double P99Us, double P999Us, double MaxUs);

/// <summary>The figures' JSON, made at build time (the load generator is native: nothing is compiled while it measures).</summary>
[JsonSerializable(typeof(Result))]
[JsonSerializable(typeof(StallResult))]
[JsonSerializable(typeof(RowResult))]
internal sealed partial class LoadGenJson : JsonSerializerContext;

internal sealed record Options(IPEndPoint Target, string Host, string Path, double Rate, int Connections, double Seconds, double Warmup, bool Fresh, double SlowMs,
    string? LatenciesFile)
{
    public static Options? Parse(string[] args)
    {
        var map = new Dictionary<string, string>();
        var fresh = false;
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == "--fresh")
                fresh = true;
            else if (i + 1 < args.Length)
                map[args[i].TrimStart('-')] = args[++i];
            else
                return null;
        }
        if (!map.TryGetValue("target", out var target) || !IPEndPoint.TryParse(target, out var ep)) return null;
        return new Options(ep, map.GetValueOrDefault("host", target), map.GetValueOrDefault("path", "/"),
            double.Parse(map.GetValueOrDefault("rate", "1000")), int.Parse(map.GetValueOrDefault("connections", "16")),
            double.Parse(map.GetValueOrDefault("seconds", "10")), double.Parse(map.GetValueOrDefault("warmup", "0")), fresh,
            double.Parse(map.GetValueOrDefault("slow-ms", "0")), map.GetValueOrDefault("latencies"));
    }
}

/// <summary>Reads one HTTP/1.1 response (Content-Length or chunked body) from a keep-alive connection.</summary>
internal sealed class ResponseReader(Socket socket, byte[] buffer)
{
    private int _start, _end;

    public int ReadResponse()
    {
        int headerEnd;
        while ((headerEnd = buffer.AsSpan(_start, _end - _start).IndexOf("\r\n\r\n"u8)) < 0) Fill();
        var head = buffer.AsSpan(_start, headerEnd);
        var status = int.Parse(Encoding.ASCII.GetString(head.Slice(9, 3)));
        long length = -1;
        var chunked = false;
        foreach (var range in head.Split("\r\n"u8))
        {
            var line = head[range];
            var colon = line.IndexOf((byte)':');
            if (colon < 0) continue;
            var name = Encoding.ASCII.GetString(line[..colon]).Trim();
            var value = Encoding.ASCII.GetString(line[(colon + 1)..]).Trim();
            if (name.Equals("content-length", StringComparison.OrdinalIgnoreCase)) length = long.Parse(value);
            else if (name.Equals("transfer-encoding", StringComparison.OrdinalIgnoreCase) && value.Contains("chunked", StringComparison.OrdinalIgnoreCase)) chunked = true;
        }
        _start += headerEnd + 4;
        if (chunked)
        {
            while (true)
            {
                int lineEnd;
                while ((lineEnd = buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0) Fill();
                var sizeText = Encoding.ASCII.GetString(buffer, _start, lineEnd).Split(';')[0].Trim();
                var size = Convert.ToInt64(sizeText, 16);
                _start += lineEnd + 2;
                Skip(size + 2);
                if (size == 0) break; // no trailers expected
            }
        }
        else if (length > 0) Skip(length);
        return status;
    }

    private void Skip(long count)
    {
        while (count > 0)
        {
            if (_start == _end) Fill();
            var take = (int)Math.Min(count, _end - _start);
            _start += take;
            count -= take;
        }
    }

    private void Fill()
    {
        if (_start == _end) { _start = _end = 0; }
        else if (_end == buffer.Length) { Buffer.BlockCopy(buffer, _start, buffer, 0, _end - _start); _end -= _start; _start = 0; }
        var read = socket.Receive(buffer, _end, buffer.Length - _end, SocketFlags.None);
        if (read == 0) throw new IOException("connection closed by the server");
        _end += read;
    }
}

internal static partial class Native
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Sec; public long Nsec; }

    [LibraryImport("libc")]
    private static partial int clock_nanosleep(int clock, int flags, ref Timespec request, IntPtr remain);

    [LibraryImport("libc")]
    public static partial int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    /// <summary>Sleeps until the CLOCK_MONOTONIC instant <paramref name="ns"/> (Stopwatch timestamps are that clock in ns on Linux).</summary>
    public static void SleepUntil(long ns)
    {
        var ts = new Timespec { Sec = ns / 1_000_000_000, Nsec = ns % 1_000_000_000 };
        while (clock_nanosleep(1 /* CLOCK_MONOTONIC */, 1 /* TIMER_ABSTIME */, ref ts, IntPtr.Zero) == 4 /* EINTR */) { }
    }
}
