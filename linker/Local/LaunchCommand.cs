namespace FedMesh.Linker.Local;

/// <summary>
/// What runs when the supervisor starts <c>fedmesh ARGS</c>: this program again, except the data-plane parts
/// (proxy, gateway), which run as the native data plane (<c>fedmesh-dataplane</c>, published from
/// <c>deploy/dataplane</c>) when that file sits next to this program: <c>fedmesh component proxy ARGS</c>
/// becomes <c>fedmesh-dataplane proxy ARGS</c>.
/// </summary>
internal static class LaunchCommand
{
    /// <summary>The native data plane's file name, as <c>deploy/dataplane</c> publishes it.</summary>
    public const string NativeDataPlaneFile = "fedmesh-dataplane";

    /// <summary>
    /// The executable and its arguments for <c>fedmesh <paramref name="args"/></c>, this program living in
    /// <paramref name="baseDirectory"/> and, when it has no apphost there, run by <paramref name="processPath"/>
    /// (the <c>dotnet</c> host).
    /// </summary>
    public static (string FileName, string[] Arguments) Resolve(IReadOnlyList<string> args, string baseDirectory, string? processPath)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (IsDataPlane(args))
        {
            var native = Path.Combine(baseDirectory, NativeDataPlaneFile);
            if (File.Exists(native)) return (native, [.. args.Skip(1)]);
        }
        var apphost = Path.Combine(baseDirectory, "fedmesh");
        if (File.Exists(apphost)) return (apphost, [.. args]);
        return (processPath ?? "dotnet", [Path.Combine(baseDirectory, "fedmesh.dll"), .. args]);
    }

    /// <summary>
    /// True if <paramref name="commandLine"/> (arguments joined by spaces, as <c>/proc/PID/cmdline</c> gives them)
    /// is a process started for <c>fedmesh <paramref name="args"/></c>: this program with those arguments, or for a
    /// proxy or gateway the native data plane with the arguments after <c>component</c>. Either may be running when
    /// a new supervisor adopts the parts of an earlier one, whatever sits next to this program now.
    /// </summary>
    public static bool Describes(string commandLine, IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(commandLine);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Count == 0) return false;
        if (commandLine.Contains(string.Join(' ', args), StringComparison.Ordinal)) return true;
        if (!IsDataPlane(args)) return false;
        var native = NativeDataPlaneFile + " " + string.Join(' ', args.Skip(1));
        // The executable is named fedmesh-dataplane (run by its path or by name) and nothing else: not my-fedmesh-dataplane.
        return commandLine.EndsWith(native, StringComparison.Ordinal)
            && (commandLine.Length == native.Length || commandLine[^(native.Length + 1)] == '/');
    }

    private static bool IsDataPlane(IReadOnlyList<string> args) => args.Count >= 2 && args[0] == "component" && args[1] is "proxy" or "gateway";
}
