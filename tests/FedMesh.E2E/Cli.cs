using System.Diagnostics;
using System.Text;

namespace FedMesh.E2E;

/// <summary>Runs the real <c>fedmesh</c> program (the linker's build output) as a separate process.</summary>
internal static class Cli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    /// <summary>How often these tests' waits (<see cref="FedMesh.Tests.Shared.Eventually"/>) probe: a probe may start a process.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The fedmesh.dll built next to this test run (same configuration), or FEDMESH_CLI_DLL.</summary>
    public static string Dll { get; } = FindDll();

    public static Task<Result> RunAsync(string home, TimeSpan timeout, params string[] args) => RunAsync(home, timeout, null, args);

    /// <summary>Runs fedmesh with <paramref name="environment"/> added (the parts it starts inherit it).</summary>
    public static Task<Result> RunAsync(string home, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        RunDllAsync(Dll, home, timeout, environment, args);

    /// <summary>Runs the fedmesh.dll at <paramref name="dll"/> (a copy of the build, with what else sits next to it).</summary>
    public static async Task<Result> RunDllAsync(string dll, string home, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("--home");
        psi.ArgumentList.Add(home);
        psi.Environment.Remove("FEDMESH_HOME");
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) psi.Environment[name] = value;
        var (exitCode, stdout, stderr) = await RunToEndAsync(psi, timeout, $"fedmesh {string.Join(' ', args)}");
        return new Result(exitCode, stdout, stderr);
    }

    /// <summary>
    /// Runs <paramref name="psi"/> (output redirected) to its end, standard input closed; on
    /// <paramref name="timeout"/> kills it with its children and throws with the output so far.
    /// </summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunToEndAsync(ProcessStartInfo psi, TimeSpan timeout, string what)
    {
        psi.RedirectStandardInput = true;
        using var process = Process.Start(psi)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{what} did not finish within {timeout.TotalSeconds} s; output so far:\n{await stdout}\n{await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Runs curl (a real HTTP client, as a user would) and returns status, headers and body.</summary>
    public static async Task<(int Status, string Headers, string Body)> CurlAsync(string proxy, string url, TimeSpan timeout, params string[] extra)
    {
        var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-sS", "--noproxy", "", "-x", $"http://{proxy}", "--max-time", ((int)timeout.TotalSeconds).ToString(), "-D", "-", url }) psi.ArgumentList.Add(a);
        foreach (var a in extra) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) return (0, "", $"curl exit {process.ExitCode}: {error}");
        var split = output.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = split < 0 ? output : output[..split];
        var body = split < 0 ? "" : output[(split + 4)..];
        var statusLine = headers.Split("\r\n")[0];
        var status = int.Parse(statusLine.Split(' ')[1]);
        return (status, headers, body);
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FedMesh.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (FedMesh.sln) above " + AppContext.BaseDirectory);
    }

    private static string FindDll()
    {
        var env = Environment.GetEnvironmentVariable("FEDMESH_CLI_DLL");
        if (!string.IsNullOrEmpty(env)) return env;
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var dll = Path.Combine(RepoRoot, "linker", "bin", configuration, "net10.0", "fedmesh.dll");
        return File.Exists(dll) ? dll : throw new InvalidOperationException($"fedmesh is not built: {dll} is missing (build the solution first)");
    }
}
