using System.Diagnostics;
using FedMesh.Core.Federation;
using FedMesh.Linker.Local;
using FedMesh.Tests.Shared;

namespace FedMesh.Linker.Tests.Local;

/// <summary>
/// A supervisor started over parts an earlier one left running adopts them instead of starting them twice,
/// whether a proxy runs as the native sidecar or inside fedmesh. The parts here are stand-in scripts named
/// like the real executables, so their command lines are those the real parts would have.
/// </summary>
public sealed class SupervisorAdoptionTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly string _root = Directory.CreateTempSubdirectory("fedmesh-adopt-").FullName;
    private readonly List<Process> _standIns = new();

    public void Dispose()
    {
        foreach (var process in _standIns)
        {
            if (!process.HasExited) process.Kill();
            process.Dispose();
        }
        Directory.Delete(_root, recursive: true);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RunAsync_PartsLeftRunning_AdoptsEveryOneAndStopsThemAtTheEnd(bool nativeDataPlane)
    {
        var paths = new FederationPaths(Path.Combine(_root, "home"));
        var config = await new FederationBootstrapper(paths, TimeProvider.System)
            .EnsureAsync(Path.Combine(AppContext.BaseDirectory, "examples", "local", "two-clusters.yaml"), CancellationToken.None);
        var bin = Directory.CreateDirectory(Path.Combine(_root, "bin")).FullName;
        StandIn(bin, "fedmesh");
        if (nativeDataPlane) StandIn(bin, LaunchCommand.NativeDataPlaneFile);

        var previous = new RuntimeState { Home = paths.Home };
        foreach (var spec in PartPlanner.Plan(paths, config))
        {
            var (file, arguments) = LaunchCommand.Resolve(spec.Args, bin, processPath: null);
            var process = Process.Start(new ProcessStartInfo(file, arguments) { UseShellExecute = false })!;
            _standIns.Add(process);
            previous.Parts.Add(new PartState { Name = spec.Name, Cluster = spec.Cluster, Kind = spec.Kind, Pid = process.Id });
        }
        var proxy = previous.Parts.First(p => p.Kind == "proxy");
        var gateway = previous.Parts.First(p => p.Kind == "gateway");
        Assert.Equal(nativeDataPlane, ProcessControl.CommandLine(proxy.Pid).Contains("/fedmesh-dataplane proxy --Cluster", StringComparison.Ordinal));
        Assert.Equal(nativeDataPlane, ProcessControl.CommandLine(gateway.Pid).Contains("/fedmesh-dataplane gateway --Cluster", StringComparison.Ordinal));
        Directory.CreateDirectory(paths.RunDirectory);
        previous.Save(paths.StateFile);

        var log = new StringWriter();
        using var stop = new CancellationTokenSource();
        var run = new Supervisor(paths, config, TimeProvider.System, TextWriter.Synchronized(log)).RunAsync(stop.Token);
        var state = (await Eventually.ValueAsync(() => Task.FromResult(RuntimeState.TryLoad(paths.StateFile)),
            s => s is not null && s.SupervisorPid == Environment.ProcessId, "the state file to name this process as the supervisor", Deadline))!;
        stop.Cancel();
        await run.WaitAsync(Deadline);

        Assert.Equal(previous.Parts.Select(p => (p.Name, p.Pid)), state.Parts.Select(p => (p.Name, p.Pid)));
        var text = log.ToString();
        foreach (var part in previous.Parts)
            Assert.Contains($"adopted {part.Name} (pid {part.Pid})", text);
        Assert.DoesNotContain(" started ", text);
        // Adopted means supervised: stopping the supervisor stopped them.
        foreach (var process in _standIns)
            await process.WaitForExitAsync().WaitAsync(Deadline);
    }

    /// <summary>An executable script that idles until signalled; the kernel runs it as <c>/bin/sh PATH ARGS</c>.</summary>
    private static void StandIn(string dir, string name)
    {
        var file = Path.Combine(dir, name);
        File.WriteAllText(file, "#!/bin/sh\nwhile :; do sleep 0.2; done\n");
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
