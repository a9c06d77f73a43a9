using Microsoft.Diagnostics.Tracing.Etlx;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

// FedMesh.Bench.Allocations TRACE.nettrace REQUESTS [TOP]
// Sums the runtime's allocation ticks (one about every 100 KB allocated, naming the type and the stack of the
// allocation that crossed the mark) by type and by the innermost frames of the stack, and divides the total by
// the requests served while the trace ran.
if (args.Length < 2 || !long.TryParse(args[1], out var requests) || requests <= 0)
{
    Console.Error.WriteLine("usage: FedMesh.Bench.Allocations TRACE.nettrace REQUESTS [TOP]");
    return 2;
}
var top = args.Length > 2 && int.TryParse(args[2], out var t) ? t : 15;
using var log = new TraceLog(TraceLog.CreateFromEventPipeDataFile(args[0]));
var byType = new Dictionary<string, long>();
var byStack = new Dictionary<string, long>();
long total = 0;
foreach (var e in log.Events)
{
    if (e is not GCAllocationTickTraceData tick)
        continue;
    var amount = tick.AllocationAmount64;
    total += amount;
    byType[tick.TypeName] = byType.GetValueOrDefault(tick.TypeName) + amount;
    var frames = new List<string>();
    for (var frame = e.CallStack(); frame is not null && frames.Count < 3; frame = frame.Caller)
    {
        var name = frame.CodeAddress.FullMethodName;
        // The builder's own frames say nothing about who allocated.
        if (string.IsNullOrEmpty(name) || name.StartsWith("System.Runtime.CompilerServices.", StringComparison.Ordinal))
            continue;
        frames.Add(name.Length > 100 ? name[..100] : name);
    }
    var key = string.Join(" <= ", frames);
    byStack[key] = byStack.GetValueOrDefault(key) + amount;
}
if (total == 0)
{
    Console.Error.WriteLine($"{args[0]}: no allocation ticks (was the GC keyword at verbose level on?)");
    return 1;
}
Console.WriteLine($"{total / (double)requests:F0} bytes allocated per request ({total / 1024:N0} KiB over {requests:N0} requests)");
Console.WriteLine("\nby type:");
foreach (var (name, amount) in byType.OrderByDescending(p => p.Value).Take(top))
    Console.WriteLine($"  {amount * 100.0 / total,5:F1} %  {amount / (double)requests,6:F0} B/req  {name}");
Console.WriteLine("\nby where (innermost frames first):");
foreach (var (where, amount) in byStack.OrderByDescending(p => p.Value).Take(top))
    Console.WriteLine($"  {amount * 100.0 / total,5:F1} %  {amount / (double)requests,6:F0} B/req  {where}");
return 0;
