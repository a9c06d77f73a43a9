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

    /// <summary>How to start this very program again: its executable and the arguments that come first.</summary>
    public static (string FileName, string[] Prefix) Self()
    {
        var apphost = Path.Combine(AppContext.BaseDirectory, "fedmesh");
        if (File.Exists(apphost)) return (apphost, []);
        var dll = Path.Combine(AppContext.BaseDirectory, "fedmesh.dll");
        return (Environment.ProcessPath ?? "dotnet", [dll]);
    }

    /// <summary>
    /// The native sidecar (<c>fedmesh-proxy</c>, published from <c>deploy/sidecar</c>) next to this program,
    /// when <paramref name="args"/> start a proxy and it is there; it takes the same arguments after
    /// <c>component proxy</c>. Otherwise null: the proxy runs in this program.
    /// </summary>
    private static string? NativeProxy(string[] args)
    {
        if (args.Length < 2 || args[0] != "component" || args[1] != "proxy")
            return null;
        var native = Path.Combine(AppContext.BaseDirectory, "fedmesh-proxy");
        return File.Exists(native) ? native : null;
    }

    /// <summary>
    /// Starts this program with <paramref name="args"/>, its output appended to <paramref name="logFile"/>.
    /// The shell execs, so the returned process is the program itself and owns the log file directly
    /// (it keeps logging if the supervisor dies).
    /// </summary>
    public static Process StartSelf(IEnumerable<string> args, string logFile, bool detach = false)
    {
        var (file, prefix) = Self();
        string[] argv = [.. args];
        if (NativeProxy(argv) is { } native)
            (file, prefix, argv) = (native, [], argv[2..]);
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(detach
            ? "setsid \"$0\" \"$@\" >>\"$FEDMESH_LOG\" 2>&1 </dev/null &"
            : "exec \"$0\" \"$@\" >>\"$FEDMESH_LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add(file);
        foreach (var p in prefix) psi.ArgumentList.Add(p);
        foreach (var a in argv) psi.ArgumentList.Add(a);
        psi.Environment["FEDMESH_LOG"] = logFile;
        // A sidecar wants a small heap and quick start rather than a server GC per core.
        psi.Environment["DOTNET_gcServer"] = "0";
        DataPlaneEnvironment.Apply([.. args], psi.Environment);
        return Process.Start(psi) ?? throw new InvalidOperationException($"could not start {file}");
    }
}
