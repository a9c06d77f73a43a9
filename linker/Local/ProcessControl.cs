using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FedMesh.Linker.Local;

/// <summary>Starting, signalling and checking processes by pid (POSIX).</summary>
internal static partial class ProcessControl
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public static bool Signal(int pid, int signal) => pid > 0 && Kill(pid, signal) == 0;

    /// <summary>True if the pid names a live process (not a zombie).</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0 || Kill(pid, 0) != 0) return false;
        try
        {
            // /proc/<pid>/stat: "pid (comm) S ..." — state Z is a zombie waiting to be reaped.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] != 'Z';
        }
        catch (IOException) { return false; }
    }

    /// <summary>The command line of a live process, arguments joined by spaces; empty if unknown.</summary>
    public static string CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    /// <summary>
    /// Starts this program with <paramref name="args"/> (a proxy or gateway as the native data plane when it is there, see
    /// <see cref="LaunchCommand"/>), its output appended to <paramref name="logFile"/>. The shell execs, so the
    /// returned process is the program itself and owns the log file directly (it keeps logging if the supervisor dies).
    /// </summary>
    public static Process StartSelf(IEnumerable<string> args, string logFile, bool detach = false)
    {
        string[] argv = [.. args];
        var (file, arguments) = LaunchCommand.Resolve(argv, AppContext.BaseDirectory, Environment.ProcessPath);
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(detach
            ? "setsid \"$0\" \"$@\" >>\"$FEDMESH_LOG\" 2>&1 </dev/null &"
            : "exec \"$0\" \"$@\" >>\"$FEDMESH_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add(file);
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        psi.Environment["FEDMESH_LOG"] = logFile;
        // A sidecar wants a small heap and quick start rather than a server GC per core.
        psi.Environment["DOTNET_gcServer"] = "0";
        DataPlaneEnvironment.Apply(argv, psi.Environment);
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
    }
}
