// Propagation benchmark: time from `fedmesh canary shift` returning to every proxy of a service having
// applied the new weights (read from each proxy's admin /routes), over N shifts. Loopback only, bounded.
// Two figures per shift: "applied" uses the moment each proxy swapped its table in (appliedAt in /routes,
// same machine, same wall clock), "observed" the moment this poller saw it, which adds polling and
// scheduling delay of the observer itself.
using System.Diagnostics;
using System.Text.Json;

var shifts = args.Length > 0 ? int.Parse(args[0]) : 50;
var repo = FindRepo();
var dll = Environment.GetEnvironmentVariable("FEDMESH_CLI_DLL") ?? Path.Combine(repo, "linker", "bin", "Debug", "net10.0", "fedmesh.dll");
var home = Path.Combine(Path.GetTempPath(), "fedmesh-bench-canary-" + Guid.NewGuid().ToString("N")[..8]);
var deadline = TimeSpan.FromSeconds(10);
// Each poll costs the proxies and this process CPU on a shared machine; BENCH_POLL_MS trades observer load for observer delay.
var pollInterval = TimeSpan.FromMilliseconds(int.TryParse(Environment.GetEnvironmentVariable("BENCH_POLL_MS"), out var ms) ? ms : 2);
try
{
    Run("up", "--detach", "-f", Path.Combine(repo, "bench", "canary", "federation.yaml"));
    Run("link", "east", "west");
    var status = JsonDocument.Parse(Run("status", "-o", "json")).RootElement;
    var admins = status.GetProperty("clusters").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "east")
        .GetProperty("parts").EnumerateArray().Where(p => p.GetProperty("kind").GetString() == "proxy")
        .Select(p => p.GetProperty("addresses").GetProperty("admin").GetString()!).ToArray();
    Console.WriteLine($"east proxies: {admins.Length}; shifts: {shifts}; poll every {pollInterval.TotalMilliseconds:0} ms");
    using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
    await WaitMirrorAsync();
    var samples = new List<double>();
    var observed = new List<double>();
    for (var i = 0; i < shifts; i++)
    {
        var weight = 10 + (i % 2) * 20 + i % 7; // always a change from the previous shift
        Run("canary", "shift", "echo", "--to", "echo@west", "--weight", weight.ToString(), "--cluster", "east");
        var returned = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        var applied = await Task.WhenAll(admins.Select(a => WaitWeightAsync(a, weight, clock)));
        observed.Add(clock.Elapsed.TotalMilliseconds);
        samples.Add(applied.Max(at => (at - returned).TotalMilliseconds));
    }
    samples.Sort();
    observed.Sort();
    double P(List<double> xs, double q) => xs[Math.Min(xs.Count - 1, (int)Math.Ceiling(q * xs.Count) - 1)];
    Console.WriteLine();
    Console.WriteLine("| metric (shift returned -> all proxies applied) | FedMesh applied | FedMesh observed | target | ratio (applied) |");
    Console.WriteLine("|---|---|---|---|---|");
    Console.WriteLine($"| p50 | {P(samples, 0.50):0.0} ms | {P(observed, 0.50):0.0} ms | - | - |");
    Console.WriteLine($"| p99 | {P(samples, 0.99):0.0} ms | {P(observed, 0.99):0.0} ms | 200 ms | {P(samples, 0.99) / 200:0.00} |");
    Console.WriteLine($"| max | {samples[^1]:0.0} ms | {observed[^1]:0.0} ms | - | - |");
    Console.WriteLine($"| Istio push debounce alone | - | - | 100 ms | {P(samples, 0.50) / 100:0.00} (p50 / 100 ms) |");

    // The moment the proxy applied the weight (its own clock), once this poller sees it.
    async Task<DateTimeOffset> WaitWeightAsync(string admin, int weight, Stopwatch clock)
    {
        while (clock.Elapsed < deadline)
        {
            var root = JsonDocument.Parse(await http.GetStringAsync($"http://{admin}/routes")).RootElement;
            foreach (var r in root.GetProperty("routes").EnumerateArray())
                foreach (var b in r.GetProperty("backends").EnumerateArray())
                    if (b.GetProperty("service").GetString() == "echo-west" && b.GetProperty("weight").GetInt32() == weight)
                        // A proxy without appliedAt (older build) counts from when it was seen.
                        return root.TryGetProperty("appliedAt", out var at) ? at.GetDateTimeOffset() : DateTimeOffset.UtcNow;
            await Task.Delay(pollInterval);
        }
        throw new TimeoutException($"proxy {admin} did not apply weight {weight} within {deadline.TotalSeconds} s");
    }

    async Task WaitMirrorAsync()
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (RunRaw("get", "services", "echo-west", "--cluster", "east").Exit == 0) return;
            await Task.Delay(200);
        }
        throw new TimeoutException("echo-west was not mirrored into east within 60 s");
    }
}
finally
{
    RunRaw("down");
    try { Directory.Delete(home, true); } catch (IOException) { }
}

string Run(params string[] a)
{
    var (exit, stdout, stderr) = RunRaw(a);
    if (exit != 0) throw new InvalidOperationException($"fedmesh {string.Join(' ', a)} failed ({exit}): {stdout}{stderr}");
    return stdout;
}

(int Exit, string Stdout, string Stderr) RunRaw(params string[] a)
{
    var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
    psi.ArgumentList.Add(dll);
    foreach (var x in a) psi.ArgumentList.Add(x);
    psi.ArgumentList.Add("--home");
    psi.ArgumentList.Add(home);
    using var p = Process.Start(psi)!;
    var stdout = p.StandardOutput.ReadToEndAsync();
    var stderr = p.StandardError.ReadToEnd();
    if (!p.WaitForExit(TimeSpan.FromMinutes(3))) { p.Kill(true); throw new TimeoutException("fedmesh " + string.Join(' ', a)); }
    return (p.ExitCode, stdout.Result, stderr);
}

static string FindRepo()
{
    var dir = new DirectoryInfo(AppContext.BaseDirectory);
    while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FedMesh.sln"))) dir = dir.Parent;
    return dir?.FullName ?? throw new InvalidOperationException("run from inside the repository");
}
