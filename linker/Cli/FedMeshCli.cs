using System.CommandLine;
using System.Runtime.InteropServices;
using FedMesh.Core.Yaml;
using FedMesh.Linker.Commands;

namespace FedMesh.Linker;

/// <summary>The <c>fedmesh</c> command: user verbs, plus the hidden entry points that run the parts.</summary>
internal static class FedMeshCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        // Processes of the local federation: not user verbs, and their arguments are the parts' own.
        if (args.Length >= 2 && args[0] == "component")
            return await ComponentEntry.RunAsync(args[1], args[2..]).ConfigureAwait(false);

        using var stop = new CancellationTokenSource();
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        return await InvokeAsync(BuildRoot(), args, stop.Token).ConfigureAwait(false);
    }

    /// <summary>Parses and runs <paramref name="args"/> against <paramref name="root"/>: usage errors exit 2, <see cref="CliException"/>s print their message.</summary>
    internal static async Task<int> InvokeAsync(RootCommand root, string[] args, CancellationToken stop)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) Console.Error.WriteLine($"error: {error.Message}");
            Console.Error.WriteLine("Run 'fedmesh --help' (or the command with --help) for usage.");
            return ExitCodes.Usage;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }, stop).ConfigureAwait(false);
        }
        catch (CliException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return e.ExitCode;
        }
        catch (Exception e) when (e is HttpRequestException or FedMesh.Core.Store.StoreForbiddenException)
        {
            // A Kubernetes cluster's API server could not be reached or refused the kubeconfig's credentials.
            Console.Error.WriteLine($"error: {e.Message}; check the cluster's context with 'kubectl --context CONTEXT get ns'");
            return ExitCodes.Failure;
        }
        catch (ResourceDecodeException e)
        {
            Console.Error.WriteLine("error: " + string.Join("\n  ", e.Errors.Select(x => x.ToString())));
            return ExitCodes.Failure;
        }
        catch (FileNotFoundException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return ExitCodes.Failure;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return ExitCodes.Failure;
        }
    }

    internal static RootCommand BuildRoot()
    {
        var root = new RootCommand("fedmesh: a multi-cluster service mesh. Links clusters, mirrors services, moves traffic across clusters.");
        root.Options.Add(GlobalOptions.Home);
        root.Options.Add(GlobalOptions.Output);
        root.Subcommands.Add(UpCommand.Build());
        root.Subcommands.Add(DownCommand.Build());
        root.Subcommands.Add(StatusCommand.Build());
        root.Subcommands.Add(LinkCommands.BuildLink());
        root.Subcommands.Add(LinkCommands.BuildUnlink());
        root.Subcommands.Add(ApplyCommand.Build());
        root.Subcommands.Add(GetCommand.Build());
        root.Subcommands.Add(DeleteCommand.Build());
        root.Subcommands.Add(CanaryCommands.Build());
        root.Subcommands.Add(LatencyCommand.Build());
        root.Subcommands.Add(GatewaysCommand.Build());
        root.Subcommands.Add(SuperviseCommand.Build());
        root.Subcommands.Add(ClusterCommand.Build());
        root.Subcommands.Add(InstallCommands.BuildInstall());
        root.Subcommands.Add(InstallCommands.BuildUninstall());
        root.Subcommands.Add(InjectCommand.Build());
        root.Subcommands.Add(FailoverCommands.Build());
        root.Subcommands.Add(PartCommands.BuildStop());
        root.Subcommands.Add(PartCommands.BuildStart());
        return root;
    }
}
