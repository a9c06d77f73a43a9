namespace FedMesh.Linker.Local;

/// <summary>
/// What runs when the supervisor starts <c>fedmesh ARGS</c>: this program again, except a proxy, which runs as
/// the native sidecar (<c>fedmesh-proxy</c>, published from <c>deploy/sidecar</c>) when that file sits next to
/// this program. The sidecar takes the same options, without <c>component proxy</c> in front.
/// </summary>
internal static class LaunchCommand
{
    /// <summary>The native sidecar's file name, as <c>deploy/sidecar</c> publishes it.</summary>
    public const string NativeProxyFile = "fedmesh-proxy";

    /// <summary>
    /// The executable and its arguments for <c>fedmesh <paramref name="args"/></c>, this program living in
    /// <paramref name="baseDirectory"/> and, when it has no apphost there, run by <paramref name="processPath"/>
    /// (the <c>dotnet</c> host).
    /// </summary>
    public static (string FileName, string[] Arguments) Resolve(IReadOnlyList<string> args, string baseDirectory, string? processPath)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (IsProxy(args))
        {
            var native = Path.Combine(baseDirectory, NativeProxyFile);
            if (File.Exists(native)) return (native, [.. args.Skip(2)]);
        }
        var apphost = Path.Combine(baseDirectory, "fedmesh");
        if (File.Exists(apphost)) return (apphost, [.. args]);
        return (processPath ?? "dotnet", [Path.Combine(baseDirectory, "fedmesh.dll"), .. args]);
    }

    /// <summary>
    /// True if <paramref name="commandLine"/> (arguments joined by spaces, as <c>/proc/PID/cmdline</c> gives them)
    /// is a process started for <c>fedmesh <paramref name="args"/></c>: this program with those arguments, or for a
    /// proxy the native sidecar with the arguments after <c>component proxy</c>. Either may be running when a new
    /// supervisor adopts the parts of an earlier one, whatever sits next to this program now.
    /// </summary>
    public static bool Describes(string commandLine, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0) return false;
        if (commandLine.Contains(string.Join(' ', args), StringComparison.Ordinal)) return true;
        if (!IsProxy(args)) return false;
        var native = args.Count > 2 ? NativeProxyFile + " " + string.Join(' ', args.Skip(2)) : NativeProxyFile;
        // The executable is named fedmesh-proxy (run by its path or by name) and nothing else: not my-fedmesh-proxy.
        return commandLine.EndsWith(native, StringComparison.Ordinal)
            && (commandLine.Length == native.Length || commandLine[^(native.Length + 1)] == '/');
    }

    private static bool IsProxy(IReadOnlyList<string> args) => args.Count >= 2 && args[0] == "component" && args[1] == "proxy";
}
