using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Commands;

/// <summary><c>fedmesh down</c>: stop the supervisor and every part; nothing is left running.</summary>
internal static class DownCommand
{
    private static readonly TimeSpan SupervisorGrace = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan PartGrace = TimeSpan.FromSeconds(5);

    public static Command Build()
    {
        var command = new Command("down", "Stop every part of the local federation (its state stays in the stores)");
        command.SetAction((parse, ct) => RunAsync(GlobalOptions.Paths(parse), ct));
        return command;
    }

    private static async Task<int> RunAsync(FederationPaths paths, CancellationToken ct)
    {
        var time = TimeProvider.System;
        // Read what runs before the supervisor removes its state, to check afterwards that all of it stopped.
        var state = RuntimeState.TryLoad(paths.StateFile);
        var supervisor = LocalRuntime.SupervisorPid(paths);
        if (supervisor > 0)
        {
            Console.WriteLine($"Stopping the supervisor (pid {supervisor}) and its parts...");
            ProcessControl.Signal(supervisor, ProcessControl.SIGTERM);
            if (!await WaitGoneAsync([supervisor], SupervisorGrace, time, ct).ConfigureAwait(false))
            {
                Console.WriteLine("The supervisor did not stop in time; killing it.");
                ProcessControl.Signal(supervisor, ProcessControl.SIGKILL);
            }
        }
        var leftovers = state?.Parts.Where(p => ProcessControl.IsAlive(p.Pid)).ToList() ?? [];
        if (leftovers.Count > 0)
        {
            Console.WriteLine($"Stopping {leftovers.Count} part(s) left without a supervisor...");
            foreach (var p in leftovers) ProcessControl.Signal(p.Pid, ProcessControl.SIGTERM);
            if (!await WaitGoneAsync(leftovers.Select(p => p.Pid).ToList(), PartGrace, time, ct).ConfigureAwait(false))
                foreach (var p in leftovers.Where(p => ProcessControl.IsAlive(p.Pid))) ProcessControl.Signal(p.Pid, ProcessControl.SIGKILL);
            await WaitGoneAsync(leftovers.Select(p => p.Pid).ToList(), PartGrace, time, ct).ConfigureAwait(false);
        }
        TryDelete(paths.StateFile);
        TryDelete(paths.SupervisorPidFile);
        if (supervisor == 0 && leftovers.Count == 0)
        {
            Console.WriteLine($"The federation at {paths.Home} is not running.");
            return ExitCodes.Success;
        }
        var still = state?.Parts.Where(p => ProcessControl.IsAlive(p.Pid)).Select(p => $"{p.Name} (pid {p.Pid})").ToList() ?? [];
        if (still.Count > 0) throw new CliException("could not stop: " + string.Join(", ", still));
        Console.WriteLine($"Stopped {state?.Parts.Count ?? 0} parts.");
        return ExitCodes.Success;
    }

    private static async Task<bool> WaitGoneAsync(IReadOnlyList<int> pids, TimeSpan grace, TimeProvider time, CancellationToken ct)
    {
        var deadline = time.GetUtcNow() + grace;
        while (pids.Any(ProcessControl.IsAlive))
        {
            if (time.GetUtcNow() > deadline) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(50), time, ct).ConfigureAwait(false);
        }
        return true;
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (IOException) { }
    }
}
