using FedMesh.Core.Federation;

namespace FedMesh.Linker.Local;

/// <summary>Facts about the running local federation: the supervisor and what it runs.</summary>
internal static class LocalRuntime
{
    /// <summary>The supervisor's pid if it is running, else 0.</summary>
    public static int SupervisorPid(FederationPaths paths)
    {
        try
        {
            return int.TryParse(File.ReadAllText(paths.SupervisorPidFile).Trim(), out var pid) && ProcessControl.IsAlive(pid) ? pid : 0;
        }
        catch (IOException) { return 0; }
    }

    /// <summary>
    /// Waits until every planned part answers ready, printing progress when it changes. Fails early
    /// if <paramref name="supervisorAlive"/> says the supervisor died.
    /// </summary>
    public static async Task WaitReadyAsync(FederationPaths paths, IReadOnlyList<PartSpec> parts, TimeSpan timeout, Func<bool> supervisorAlive, TextWriter progress, TimeProvider time, CancellationToken cancellationToken)
    {
        var urls = parts.Select(p => p.ReadyUrl).ToList();
        var deadline = time.GetUtcNow() + timeout;
        var last = -1;
        while (true)
        {
            var ready = await Readiness.CheckAllAsync(urls, cancellationToken).ConfigureAwait(false);
            var count = ready.Count(r => r);
            if (count == parts.Count) return;
            if (count != last)
            {
                progress.WriteLine($"  {count}/{parts.Count} parts ready");
                last = count;
            }
            if (!supervisorAlive())
                throw new CliException($"the supervisor exited before the federation was ready; see {Path.Combine(paths.LogDirectory, "supervisor.log")}");
            if (time.GetUtcNow() > deadline)
            {
                var waiting = string.Join(", ", parts.Where((_, i) => !ready[i]).Select(p => p.Name));
                throw new CliException($"not ready after {timeout.TotalSeconds:0} s: {waiting}; their logs are in {paths.LogDirectory}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken).ConfigureAwait(false);
        }
    }
}
