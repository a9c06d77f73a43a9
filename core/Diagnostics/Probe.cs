namespace FedMesh.Core.Diagnostics;

/// <summary>TEMPORARY propagation probe: FEDMESH_PROBE=1 writes "PROBE pid stage unix-us" to stderr.</summary>
public static class Probe
{
    private static readonly bool On = Environment.GetEnvironmentVariable("FEDMESH_PROBE") == "1";

    public static void Mark(string stage)
    {
        if (!On) return;
        var us = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        Console.Error.WriteLine($"PROBE {Environment.ProcessId} {stage} {us} tp={ThreadPool.ThreadCount} q={ThreadPool.PendingWorkItemCount}");
    }
}
