using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

/// <summary>
/// Several rows measured in turns of a fraction of a second instead of one after another: each row has its own
/// connections, and the fixed-rate schedule hands the whole rate to one row for a slice (250 ms by default), then to the
/// next, the rows' order rotated every cycle, until each row has had its measured seconds. The first part of each
/// slice (settle) is sent but not measured, so that every figure is of a row in steady use, as after a warm-up.
/// A busy moment of a shared host then falls on every row alike instead of on whichever row was being measured; the
/// rows' figures differ by what the rows do.
/// </summary>
internal static class Interleave
{
    public const string Usage =
        "usage: loadgen --interleave --row NAME,HOST:PORT,HOST [--row ...] [--path /] [--rate RPS] [--connections N] [--seconds S]\n"
        + "               [--slice-ms MS] [--settle-ms MS] [--slow-ms MS] [--latencies DIR]\n"
        + "       (each row gets RATE for a slice (default 250 ms) in turn, N connections of its own (default 16), until it has\n"
        + "        had S measured seconds (default 10); the first settle ms (default 50) of each slice are not measured;\n"
        + "        prints a JSON line per row; --latencies writes DIR/NAME: the row's latencies in µs, sorted)";

    public static int Run(string[] args)
    {
        var rows = new List<(string Name, IPEndPoint Target, string Host)>();
        var map = new Dictionary<string, string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (i + 1 >= args.Length || !args[i].StartsWith("--", StringComparison.Ordinal))
                return Fail($"'{args[i]}' is not an option with a value");
            var (name, value) = (args[i][2..], args[++i]);
            if (name != "row")
            {
                map[name] = value;
                continue;
            }
            var parts = value.Split(',');
            if (parts.Length != 3 || parts[0].Length == 0 || !IPEndPoint.TryParse(parts[1], out var target) || target.Port == 0 || parts[2].Length == 0)
                return Fail($"--row '{value}' is not NAME,ADDRESS:PORT,HOST");
            if (rows.Exists(r => r.Name == parts[0]))
                return Fail($"--row '{parts[0]}' is given twice");
            rows.Add((parts[0], target, parts[2]));
        }
        if (rows.Count == 0)
            return Fail("no --row given");
        double Number(string name, double fallback, double min, double max)
        {
            if (!map.Remove(name, out var text))
                return fallback;
            if (!double.TryParse(text, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
                throw new ArgumentException($"--{name} '{text}' is not a number from {min} to {max}");
            return v;
        }
        double rate, seconds, sliceMs, settleMs, slowMs;
        int connections;
        string path;
        string? latencies;
        try
        {
            rate = Number("rate", 1000, 1, 1_000_000);
            connections = (int)Number("connections", 16, 1, 1024);
            seconds = Number("seconds", 10, 0.1, 3600);
            sliceMs = Number("slice-ms", 250, 1, 60_000);
            settleMs = Number("settle-ms", 50, 0, 60_000);
            slowMs = Number("slow-ms", 0, 0, 60_000);
            path = map.Remove("path", out var p) ? p : "/";
            latencies = map.Remove("latencies", out var d) ? d : null;
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
        if (map.Count > 0)
            return Fail($"unknown option --{map.Keys.First()}");
        var periodNs = 1e9 / rate;
        var perSlice = (int)(sliceMs * 1e6 / periodNs);
        var settle = (int)Math.Ceiling(settleMs * 1e6 / periodNs);
        if (perSlice - settle < 1)
            return Fail($"a slice of {sliceMs} ms at {rate} rps holds {perSlice} requests, none after the {settleMs} ms settle");
        if (latencies is not null && !Directory.Exists(latencies))
            return Fail($"--latencies '{latencies}' is not a directory");

        var sockets = new Socket[rows.Count * connections];
        for (var s = 0; s < sockets.Length; s++)
        {
            try
            {
                sockets[s] = Lanes.Open(rows[s / connections].Target);
            }
            catch (SocketException e)
            {
                foreach (var opened in sockets) opened?.Dispose();
                return Fail($"row {rows[s / connections].Name}: cannot connect to {rows[s / connections].Target}: {e.Message}");
            }
        }
        var cycles = (int)Math.Ceiling(seconds * rate / (perSlice - settle));
        var sliceNs = (long)(perSlice * periodNs);
        var start = Lanes.StartTime(sockets.Length);
        var lanes = new Lane[sockets.Length];
        for (var r = 0; r < rows.Count; r++)
        {
            var request = Lanes.Request(path, rows[r].Host);
            for (var c = 0; c < connections; c++)
            {
                var intended = new List<long>();
                var measured = new List<bool>();
                for (var m = 0; m < cycles; m++)
                {
                    // Rotated: in cycle m, row r has turn (r + m) mod rows, so no row always follows the same one.
                    var sliceStart = start + (m * rows.Count + (r + m) % rows.Count) * sliceNs;
                    for (var j = c; j < perSlice; j += connections)
                    {
                        intended.Add(sliceStart + (long)(j * periodNs));
                        measured.Add(j >= settle);
                    }
                }
                lanes[r * connections + c] = new Lane(r, rows[r].Target, request, sockets[r * connections + c], [.. intended], [.. measured]);
            }
        }
        var names = rows.ConvertAll(r => r.Name).ToArray();
        Lanes.Drive(lanes, names, slowMs);
        var failed = false;
        for (var r = 0; r < rows.Count; r++)
        {
            var mine = lanes.Where(l => l.Row == r).ToArray();
            var result = Lanes.Summarize(mine, cycles * (perSlice - settle) * periodNs / 1e9,
                latencies is null ? null : Path.Combine(latencies, rows[r].Name));
            Console.WriteLine(JsonSerializer.Serialize(new RowResult(rows[r].Name, result), LoadGenJson.Default.RowResult));
            failed |= result.Requests == 0;
        }
        foreach (var s in sockets) s.Dispose();
        return failed ? 1 : 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"loadgen --interleave: {message}\n{Usage}");
        return 2;
    }
}

/// <summary>One row's figures of an interleaved run.</summary>
internal sealed record RowResult(string Row, Result Figures);
