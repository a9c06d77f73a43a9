using System.CommandLine;
using System.Text;
using FedMesh.Linker;

namespace FedMesh.Kubernetes.Tests.Cli;

/// <summary>What one in-process <c>fedmesh</c> run printed and returned.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error);

/// <summary>
/// Runs <c>fedmesh</c> verbs in this process with standard output and error captured. Console is
/// process-wide, so every test that runs the CLI is in the <see cref="ConsoleCollection"/> and runs alone.
/// </summary>
internal static class CliRun
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    public static Task<CliResult> RunAsync(params string[] args) => RunAsync(FedMeshCli.BuildRoot(), args);

    public static async Task<CliResult> RunAsync(RootCommand root, params string[] args)
    {
        var (stdout, stderr) = (Console.Out, Console.Error);
        var captured = new StringWriter(new StringBuilder());
        var error = new StringWriter(new StringBuilder());
        Console.SetOut(captured);
        Console.SetError(error);
        try
        {
            using var deadline = new CancellationTokenSource(Deadline);
            var code = await FedMeshCli.InvokeAsync(root, args, deadline.Token);
            return new CliResult(code, captured.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(stdout);
            Console.SetError(stderr);
        }
    }

    /// <summary>Runs and asserts success, showing what was printed when it failed.</summary>
    public static async Task<CliResult> OkAsync(params string[] args)
    {
        var result = await RunAsync(args);
        Assert.True(result.ExitCode == 0, $"fedmesh {string.Join(' ', args)} exited {result.ExitCode}:\n{result.Error}\n{result.Out}");
        return result;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleCollection
{
    public const string Name = "console";
}
