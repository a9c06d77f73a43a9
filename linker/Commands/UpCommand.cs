using System.CommandLine;
using System.Diagnostics;
using FedMesh.Core.Federation;
using FedMesh.Core.Transport;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Commands;

/// <summary><c>fedmesh up</c>: create the local federation if needed, start every part, wait until ready.</summary>
internal static class UpCommand
{
    public static Command Build()
    {
        var detach = new Option<bool>("--detach", "-d") { Description = "Return once every part is ready, leaving the federation running in the background" };
        var file = new Option<string?>("--file", "-f") { Description = "Federation file used when the home has no federation yet (default: examples/local/two-clusters.yaml)" };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for every part to be ready", DefaultValueFactory = _ => 120 };
        var command = new Command("up", "Start the local federation (creating it on first use); runs until Ctrl-C unless --detach") { detach, file, timeout };
        command.SetAction((parse, ct) => RunAsync(GlobalOptions.Paths(parse), parse.GetValue(detach), parse.GetValue(file), TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(GlobalOptions.Output), ct));
        return command;
    }

    private static async Task<int> RunAsync(FederationPaths paths, bool detach, string? file, TimeSpan timeout, OutputFormat output, CancellationToken ct)
    {
        var time = TimeProvider.System;
        var clock = Stopwatch.StartNew();
        if (LocalRuntime.SupervisorPid(paths) is var running and > 0)
        {
            Console.WriteLine($"The federation at {paths.Home} is already running (supervisor pid {running}).");
            return await StatusCommand.PrintAsync(paths, output, ct).ConfigureAwait(false);
        }

        // The proxies and gateways read it at start: a bad value is refused here, before anything is created or started.
        if (!BusyPolling.TryParse(Environment.GetEnvironmentVariable(BusyPolling.Variable), out _, out var busyPoll))
            throw new CliException(busyPoll + " (the federation's proxies and gateways would refuse it); nothing was started.", ExitCodes.Usage);

        var spec = file ?? DefaultFederationFile();
        if (!File.Exists(paths.ConfigFile) && !File.Exists(spec))
            throw new CliException($"federation file '{spec}' does not exist; pass one with --file");
        var config = await new FederationBootstrapper(paths, time).EnsureAsync(spec, ct).ConfigureAwait(false);
        var parts = PartPlanner.Plan(paths, config);
        Console.WriteLine($"Starting {parts.Count} parts of the federation at {paths.Home} ({string.Join(", ", config.Clusters.Select(c => c.Name))})");
        Directory.CreateDirectory(paths.LogDirectory);

        if (detach)
        {
            using var launcher = ProcessControl.StartSelf(["supervise", "--home", paths.Home], Path.Combine(paths.LogDirectory, "supervisor.log"), detach: true);
            await launcher.WaitForExitAsync(ct).ConfigureAwait(false);
            await LocalRuntime.WaitReadyAsync(paths, parts, timeout, () => SupervisorStarting(paths, clock), Console.Out, time, ct).ConfigureAwait(false);
            Console.WriteLine($"Ready in {clock.Elapsed.TotalSeconds:0.0} s.");
            await StatusCommand.PrintAsync(paths, OutputFormat.Table, ct).ConfigureAwait(false);
            PrintNextSteps(paths, config, detached: true);
            return ExitCodes.Success;
        }

        var supervisor = new Supervisor(paths, config, time, Console.Out);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var supervising = supervisor.RunAsync(stop.Token);
        try
        {
            await LocalRuntime.WaitReadyAsync(paths, parts, timeout, () => !supervising.IsCompleted, Console.Out, time, ct).ConfigureAwait(false);
            Console.WriteLine($"Ready in {clock.Elapsed.TotalSeconds:0.0} s.");
            await StatusCommand.PrintAsync(paths, OutputFormat.Table, ct).ConfigureAwait(false);
            PrintNextSteps(paths, config, detached: false);
        }
        catch (CliException)
        {
            stop.Cancel();
            await supervising.ConfigureAwait(false);
            throw;
        }
        catch (OperationCanceledException) { }
        await supervising.ConfigureAwait(false);
        Console.WriteLine("Stopped.");
        return ExitCodes.Success;
    }

    /// <summary>While detaching, the supervisor may take a moment to write its pid.</summary>
    private static bool SupervisorStarting(FederationPaths paths, Stopwatch clock) =>
        LocalRuntime.SupervisorPid(paths) > 0 || clock.Elapsed < TimeSpan.FromSeconds(10);

    internal static string DefaultFederationFile() => Path.Combine(AppContext.BaseDirectory, "examples", "local", "two-clusters.yaml");

    private static void PrintNextSteps(FederationPaths paths, FederationConfig config, bool detached)
    {
        var home = paths.Home == FederationPaths.Resolve(null).Home ? "" : $" --home {paths.Home}";
        var first = config.Clusters[0];
        var second = config.Clusters.Count > 1 ? config.Clusters[1] : null;
        var outbound = first.Workloads.Count > 0 && first.Workloads[0].Instances.Count > 0 ? first.Workloads[0].Instances[0].OutboundPort : 0;
        Console.WriteLine();
        Console.WriteLine("Try next:");
        if (second is not null)
        {
            Console.WriteLine($"  ./fedmesh link {first.Name} {second.Name}{home}");
            Console.WriteLine($"  ./fedmesh get services --cluster {first.Name}{home}");
            if (outbound > 0)
                Console.WriteLine($"  curl -x http://127.0.0.1:{outbound} http://{first.Workloads[0].Service}-{second.Name}.{first.Workloads[0].Namespace}/");
        }
        Console.WriteLine($"  ./fedmesh status{home}");
        Console.WriteLine(detached ? $"  ./fedmesh down{home}" : "Press Ctrl-C to stop every part.");
    }
}
