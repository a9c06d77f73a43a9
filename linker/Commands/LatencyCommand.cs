using System.CommandLine;
using FedMesh.Core.Common;
using FedMesh.Linker.Latency;
using Spectre.Console;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh latency [--window 1m] [--watch]</c>: the cluster × cluster matrix of gateway probe latency next to
/// what real requests saw per service and cluster pair, asked from each cluster's controller.
/// </summary>
internal static class LatencyCommand
{
    /// <summary>The controllers keep ten minutes of one-second slots.</summary>
    private static readonly TimeSpan MaxWindow = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan WatchPeriod = TimeSpan.FromSeconds(2);

    public static Command Build()
    {
        var window = new Option<string>("--window", "-w") { Description = "How far back requests are summarised, e.g. 30s, 1m, 10m (at most 10m)", DefaultValueFactory = _ => "1m" };
        var watch = new Option<bool>("--watch") { Description = "Refresh in place every 2 s until Ctrl-C" };
        var command = new Command("latency", "Gateway probe latency between clusters, and request p50/p95/p99, success rate and rate per service and cluster pair") { window, watch };
        command.SetAction(async (parse, ct) =>
        {
            var span = ParseWindow(parse.GetValue(window)!);
            var format = parse.GetValue(GlobalOptions.Output);
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            using var collector = new LatencyCollector(federation, span);
            if (parse.GetValue(watch))
                return await WatchAsync(collector, format, ct).ConfigureAwait(false);
            var report = await collector.CollectAsync(ct).ConfigureAwait(false);
            Write(report, format);
            return report.Errors.Count == 0 ? ExitCodes.Success : ExitCodes.Failure;
        });
        return command;
    }

    internal static TimeSpan ParseWindow(string text)
    {
        if (!DurationParser.TryParse(text, out var span, out var error))
            throw new CliException($"--window: {error}", ExitCodes.Usage);
        if (span <= TimeSpan.Zero || span > MaxWindow)
            throw new CliException($"--window must be more than 0 and at most 10m (controllers keep ten minutes); got '{text}'", ExitCodes.Usage);
        return span;
    }

    private static void Write(LatencyReport report, OutputFormat format)
    {
        if (format is OutputFormat.Json or OutputFormat.Yaml)
        {
            Output.Write(format, report, () => throw new InvalidOperationException());
            return;
        }
        if (System.Console.IsOutputRedirected) Output.Terminal.Profile.Width = 200;
        Output.Terminal.Write(LatencyView.Render(report));
        foreach (var error in report.Errors) Console.Error.WriteLine("warning: " + error);
    }

    private static async Task<int> WatchAsync(LatencyCollector collector, OutputFormat format, CancellationToken ct)
    {
        try
        {
            if (format is OutputFormat.Json or OutputFormat.Yaml)
            {
                // Scripts get one document per refresh.
                while (true)
                {
                    Write(await collector.CollectAsync(ct).ConfigureAwait(false), format);
                    await Task.Delay(WatchPeriod, ct).ConfigureAwait(false);
                }
            }
            var first = await collector.CollectAsync(ct).ConfigureAwait(false);
            await Output.Terminal.Live(LatencyView.Render(first, Footer())).AutoClear(false).StartAsync(async live =>
            {
                while (true)
                {
                    await Task.Delay(WatchPeriod, ct).ConfigureAwait(false);
                    live.UpdateTarget(LatencyView.Render(await collector.CollectAsync(ct).ConfigureAwait(false), Footer()));
                    live.Refresh();
                }
            }).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        return ExitCodes.Success;
    }

    private static string Footer() => $"updated {DateTime.Now:HH:mm:ss}; refreshing every {WatchPeriod.TotalSeconds:0} s, Ctrl-C to stop";
}
