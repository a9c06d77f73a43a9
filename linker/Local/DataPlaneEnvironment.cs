namespace FedMesh.Linker.Local;

/// <summary>
/// Runtime settings for the data-plane parts (proxy, gateway) that can only be given before the
/// runtime starts, hence as environment variables of the child process. Measured with
/// <c>bench/dataplane/run.sh</c>; the images in <c>deploy/docker</c> set the same.
/// </summary>
internal static class DataPlaneEnvironment
{
    /// <summary>Adds the settings for the part started with <paramref name="args"/> (<c>component proxy ...</c>).</summary>
    public static void Apply(IReadOnlyList<string> args, IDictionary<string, string?> environment)
    {
        if (args.Count < 2 || args[0] != "component" || args[1] is not ("proxy" or "gateway"))
            return;
        // Run socket continuations on the epoll thread instead of queueing them to the thread pool:
        // one hop less per read and write; our handlers never block. Each engine thread then does
        // the request work itself, so give the gateway one per core.
        environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        // Memory for a sidecar: a small gen0 budget (the default follows the L3 size, tens of MiB on
        // a server CPU) and no background GC thread; data-plane garbage is short-lived.
        // Hex without "0x": the NativeAOT runtime (fedmesh-dataplane, which also has it built in) ignores a prefixed value.
        environment["DOTNET_GCgen0size"] = "400000";
        environment["DOTNET_gcConcurrent"] = "0";
        // Thread-pool workers do not spin before sleeping: fedmesh's runtime config says so for every process it runs
        // (FedMesh.Linker.csproj), these parts included.
        // W^X stays on: turning it off only moved ~14 MiB of JIT code from shared to anonymous RSS.
        if (args[1] == "gateway")
            environment["DOTNET_SYSTEM_NET_SOCKETS_THREAD_COUNT"] = Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
