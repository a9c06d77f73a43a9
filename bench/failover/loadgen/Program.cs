// Constant-rate ("open model") GETs through a FedMesh proxy's outbound listener for a bounded time. Each request is
// sent on its schedule whatever the earlier ones are doing (a frozen gateway holds some; the rest keep going), with a
// per-request timeout. Prints one line per request when it ends: intended send time (Unix ms), status (0 = no
// answer), latency ms, answering cluster.
using System.Diagnostics;
using System.Net;
using System.Text;

string? proxy = null, url = null;
double rate = 500, seconds = 10, timeout = 10;
for (var i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--proxy": proxy = args[i + 1]; break;
        case "--url": url = args[i + 1]; break;
        case "--rate": rate = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--seconds": seconds = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        case "--timeout": timeout = double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
if (proxy is null || url is null || rate <= 0 || seconds <= 0)
{
    Console.Error.WriteLine("usage: failover-load --proxy host:port --url http://svc.ns/ [--rate 500] [--seconds 10] [--timeout 10]");
    return 2;
}

using var http = new HttpClient(new SocketsHttpHandler { Proxy = new WebProxy($"http://{proxy}"), UseProxy = true, MaxConnectionsPerServer = 512 })
{ Timeout = TimeSpan.FromSeconds(timeout) };
var origin = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
var clock = Stopwatch.StartNew();
var output = new StringBuilder();
var gate = new Lock();
var total = (long)(rate * seconds);
var inFlight = new List<Task>((int)total);
for (long k = 0; k < total; k++)
{
    var due = TimeSpan.FromSeconds(k / rate);
    var wait = due - clock.Elapsed;
    if (wait > TimeSpan.FromMilliseconds(1))
        await Task.Delay(wait);
    inFlight.Add(OneAsync(origin + (long)due.TotalMilliseconds, clock.Elapsed));
}
await Task.WhenAll(inFlight);
Console.Write(output.ToString());
return 0;

async Task OneAsync(long sentAtUnixMs, TimeSpan started)
{
    int status;
    string cluster = "-";
    try
    {
        using var response = await http.GetAsync(url);
        await response.Content.ReadAsByteArrayAsync();
        status = (int)response.StatusCode;
        if (response.Headers.TryGetValues("x-fedmesh-upstream-cluster", out var v)) cluster = v.First();
    }
    catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
    {
        status = 0;
    }
    var ms = (clock.Elapsed - started).TotalMilliseconds;
    lock (gate)
        output.Append(sentAtUnixMs).Append(' ').Append(status).Append(' ').Append(ms.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture)).Append(' ').Append(cluster).Append('\n');
}
