namespace FedMesh.Linker.Latency;

/// <summary>What <c>fedmesh latency</c> shows: gateway probes between clusters, then what real requests saw.</summary>
internal sealed record LatencyReport(
    double WindowSeconds,
    IReadOnlyList<string> Clusters,
    IReadOnlyList<ProbeLatency> Probes,
    IReadOnlyList<RequestLatency> Requests,
    IReadOnlyList<string> Errors);

/// <summary>One Link's probe results (written by the source cluster's prober to the Link's status).</summary>
internal sealed record ProbeLatency(string Source, string Target, bool? Alive, string? LastProbe, double? P50Ms, double? P95Ms, double? P99Ms, int MirroredServices);

/// <summary>Requests of one service, backend and cluster pair over the window, as the source cluster's proxies saw them.</summary>
internal sealed record RequestLatency(
    string Namespace, string Service, string Backend, string SourceCluster, string DestinationCluster,
    ulong Requests, ulong Failures, double RatePerSecond, double SuccessRate, double P50Ms, double P95Ms, double P99Ms);

/// <summary>Milliseconds for people: finer below 10 ms, where loopback and in-cluster hops live.</summary>
internal static class Millis
{
    public static string Format(double? ms) => ms switch
    {
        null => "-",
        < 10 => $"{ms.Value:0.00}ms",
        < 100 => $"{ms.Value:0.0}ms",
        _ => $"{ms.Value:0}ms",
    };
}
