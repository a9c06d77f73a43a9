using System.Diagnostics;
using FedMesh.Core.Common;
using FedMesh.Core.Federation;

namespace FedMesh.Linker.Local;

/// <summary>
/// Runs every part of the local federation as its own process and keeps them running: a part that
/// exits is restarted with backoff (1 s doubling to 10 s, reset after 30 s of health), unless it is held
/// (<see cref="PartHolds"/>: stopped on purpose), and started at once when released. Parts left
/// running by an earlier supervisor are adopted rather than started twice. On stop, every part gets
/// SIGTERM, then SIGKILL after a grace period; nothing is left running.
/// It wakes when a part it started exits, when a hold is placed or lifted (a watch of the holds' directory), when a
/// restart is due, and otherwise every <see cref="Resync"/> (adopted parts are not its children: no exit event; and in
/// case the directory watch missed something). An idle federation's supervisor costs next to nothing.
/// </summary>
internal sealed class Supervisor(FederationPaths paths, FederationConfig config, TimeProvider time, TextWriter log)
{
    private static readonly TimeSpan Resync = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);
    private readonly List<Running> _parts = new();
    private readonly WakeSignal _wake = new();
    private RuntimeState _state = new();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.LogDirectory);
        File.WriteAllText(paths.SupervisorPidFile, Environment.ProcessId.ToString());
        var previous = RuntimeState.TryLoad(paths.StateFile);
        _state = new RuntimeState { SupervisorPid = Environment.ProcessId, Home = paths.Home, StartedAt = time.GetUtcNow().ToString("o") };
        foreach (var spec in PartPlanner.Plan(paths, config))
        {
            var running = new Running(spec, new PartState
            {
                Name = spec.Name, Cluster = spec.Cluster, Kind = spec.Kind,
                Addresses = new Dictionary<string, string>(spec.Addresses), ReadyUrl = spec.ReadyUrl,
                Log = Path.Combine(paths.LogDirectory, spec.Name.Replace('/', '_') + ".log"),
            });
            var old = previous?.Parts.Find(p => p.Name == spec.Name);
            if (old is not null && ProcessControl.IsAlive(old.Pid) && LaunchCommand.Describes(ProcessControl.CommandLine(old.Pid), spec.Args))
            {
                running.AdoptedPid = old.Pid;
                running.State.Pid = old.Pid;
                running.State.StartedAt = old.StartedAt;
                running.State.Restarts = old.Restarts;
                log.WriteLine($"adopted {spec.Name} (pid {old.Pid})");
            }
            else
            {
                Start(running);
            }
            _parts.Add(running);
            _state.Parts.Add(running.State);
        }
        _state.Save(paths.StateFile);

        var holds = PartHolds.Directory(paths.RunDirectory);
        Directory.CreateDirectory(holds);
        using var holdWatch = new FileSystemWatcher(holds) { IncludeSubdirectories = false };
        holdWatch.Created += (_, _) => Wake();
        holdWatch.Deleted += (_, _) => Wake();
        holdWatch.Renamed += (_, _) => Wake();
        holdWatch.Error += (_, _) => Wake();
        holdWatch.EnableRaisingEvents = true;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                if (Supervise()) _state.Save(paths.StateFile);
                await WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) { }
        finally
        {
            await StopAllAsync().ConfigureAwait(false);
            TryDelete(paths.StateFile);
            TryDelete(paths.SupervisorPidFile);
        }
    }

    /// <summary>Until something happened (<see cref="Wake"/>; one signal for any number of events), the earliest pending restart, or <see cref="Resync"/>.</summary>
    private async Task WaitAsync(CancellationToken cancellationToken)
    {
        var wait = Resync;
        var now = time.GetUtcNow();
        foreach (var part in _parts)
            if (part.RestartAt is { } at && at - now < wait)
                wait = at - now; // one already due: WakeSignal waits no time
        await _wake.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
    }

    private void Wake() => _wake.Set();

    /// <summary>Restarts what died; true if the state changed.</summary>
    private bool Supervise()
    {
        var changed = false;
        var now = time.GetUtcNow();
        foreach (var part in _parts)
        {
            if (PartHolds.IsHeld(paths.RunDirectory, part.Spec.Name))
            {
                // Stopped on purpose ('fedmesh stop-part'): not a crash, no restart, no backoff.
                part.RestartAt = null;
                part.WasHeld = true;
                continue;
            }
            if (part.WasHeld && !part.IsAlive)
            {
                part.WasHeld = false;
                part.Backoff = TimeSpan.FromSeconds(1);
                Start(part);
                changed = true;
                continue;
            }
            part.WasHeld = false;
            if (part.IsAlive)
            {
                if (part.Backoff > TimeSpan.FromSeconds(1) && now - part.LastStart > TimeSpan.FromSeconds(30))
                    part.Backoff = TimeSpan.FromSeconds(1);
                continue;
            }
            if (part.RestartAt is null)
            {
                log.WriteLine($"{time.GetUtcNow():o} {part.Spec.Name} (pid {part.State.Pid}) exited{ExitCode(part)}; restarting in {part.Backoff.TotalSeconds:0.#} s");
                part.RestartAt = now + part.Backoff;
                part.Backoff = TimeSpan.FromTicks(Math.Min(part.Backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                continue;
            }
            if (now >= part.RestartAt)
            {
                part.State.Restarts++;
                Start(part);
                changed = true;
            }
        }
        return changed;
    }

    private static string ExitCode(Running part) =>
        part.Process is { HasExited: true } p ? $" with code {p.ExitCode}" : "";

    private void Start(Running part)
    {
        part.Process?.Dispose();
        part.AdoptedPid = 0;
        part.Process = ProcessControl.StartSelf(part.Spec.Args, part.State.Log);
        part.Process.EnableRaisingEvents = true;
        part.Process.Exited += (_, _) => Wake();
        part.State.Pid = part.Process.Id;
        part.State.StartedAt = time.GetUtcNow().ToString("o");
        part.LastStart = time.GetUtcNow();
        part.RestartAt = null;
        log.WriteLine($"{time.GetUtcNow():o} started {part.Spec.Name} (pid {part.State.Pid})");
    }

    private async Task StopAllAsync()
    {
        foreach (var part in _parts)
            if (part.IsAlive) ProcessControl.Signal(part.State.Pid, ProcessControl.SIGTERM);
        var deadline = time.GetUtcNow() + Grace;
        while (time.GetUtcNow() < deadline && _parts.Exists(p => p.IsAlive))
            await Task.Delay(TimeSpan.FromMilliseconds(50), time).ConfigureAwait(false);
        foreach (var part in _parts)
        {
            if (part.IsAlive)
            {
                log.WriteLine($"{part.Spec.Name} (pid {part.State.Pid}) ignored SIGTERM; killing it");
                ProcessControl.Signal(part.State.Pid, ProcessControl.SIGKILL);
            }
        }
        foreach (var part in _parts)
            if (part.Process is not null) await part.Process.WaitForExitAsync().WaitAsync(Grace).ConfigureAwait(false);
        log.WriteLine("all parts stopped");
    }

    private static void TryDelete(string file)
    {
        try { File.Delete(file); } catch (IOException) { }
    }

    private sealed class Running(PartSpec spec, PartState state)
    {
        public PartSpec Spec { get; } = spec;
        public PartState State { get; } = state;
        public Process? Process { get; set; }
        public int AdoptedPid { get; set; }
        public DateTimeOffset LastStart { get; set; }
        public DateTimeOffset? RestartAt { get; set; }
        public TimeSpan Backoff { get; set; } = TimeSpan.FromSeconds(1);
        public bool WasHeld { get; set; }

        public bool IsAlive => AdoptedPid > 0 ? ProcessControl.IsAlive(AdoptedPid) : Process is { HasExited: false };
    }
}
