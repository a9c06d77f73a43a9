using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Commands;

/// <summary>Hidden: the background supervisor that <c>up --detach</c> starts.</summary>
internal static class SuperviseCommand
{
    public static Command Build()
    {
        var command = new Command("supervise", "Run the local federation's supervisor in the foreground (used by 'up --detach')") { Hidden = true };
        command.SetAction(async (parse, ct) =>
        {
            var paths = GlobalOptions.Paths(parse);
            var config = FederationConfigFile.Load(paths.ConfigFile);
            await new Supervisor(paths, config, TimeProvider.System, Console.Out).RunAsync(ct).ConfigureAwait(false);
            return ExitCodes.Success;
        });
        return command;
    }
}
