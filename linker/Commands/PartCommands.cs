using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh stop-part CLUSTER/PART</c> and <c>start-part</c>: stop one part of the running local federation
/// without the supervisor restarting it (to see failover happen), and let it run again.
/// </summary>
internal static class PartCommands
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    public static Command BuildStop()
    {
        var part = new Argument<string>("part") { Description = "Part name as in 'fedmesh status', e.g. east/echo-east-0 or west/gateway" };
        var command = new Command("stop-part", "Stop one part of the local federation; the supervisor leaves it stopped until 'start-part'") { part };
        command.SetAction((parse, ct) => StopAsync(GlobalOptions.Paths(parse), parse.GetValue(part)!, ct));
        return command;
    }

    public static Command BuildStart()
    {
        var part = new Argument<string>("part") { Description = "Part name as in 'fedmesh status'" };
        var command = new Command("start-part", "Let a part stopped with 'stop-part' run again (the supervisor starts it at once)") { part };
        command.SetAction((parse, _) => Task.FromResult(Start(GlobalOptions.Paths(parse), parse.GetValue(part)!)));
        return command;
    }

    private static async Task<int> StopAsync(FederationPaths paths, string name, CancellationToken ct)
    {
        var part = Find(paths, name);
        PartHolds.Hold(paths.RunDirectory, part.Name);
        if (ProcessControl.IsAlive(part.Pid))
        {
            ProcessControl.Signal(part.Pid, ProcessControl.SIGTERM);
            var deadline = DateTime.UtcNow + StopTimeout;
            while (ProcessControl.IsAlive(part.Pid) && DateTime.UtcNow < deadline)
                await Task.Delay(50, ct).ConfigureAwait(false);
            if (ProcessControl.IsAlive(part.Pid))
                ProcessControl.Signal(part.Pid, ProcessControl.SIGKILL);
        }
        Console.WriteLine($"{part.Name} stopped (pid {part.Pid}); the supervisor leaves it stopped until 'fedmesh start-part {part.Name}'");
        return ExitCodes.Success;
    }

    private static int Start(FederationPaths paths, string name)
    {
        var part = Find(paths, name);
        Console.WriteLine(PartHolds.Release(paths.RunDirectory, part.Name)
            ? $"{part.Name} released; the supervisor starts it now"
            : $"{part.Name} was not stopped with 'stop-part'; nothing to do");
        return ExitCodes.Success;
    }

    private static PartState Find(FederationPaths paths, string name)
    {
        var state = RuntimeState.TryLoad(paths.StateFile)
            ?? throw new CliException($"the local federation in {paths.Home} is not running; start it with 'fedmesh up'");
        return state.Parts.Find(p => p.Name == name)
            ?? throw new CliException($"no part '{name}'; parts: {string.Join(", ", state.Parts.Select(p => p.Name))}", ExitCodes.Usage);
    }
}
