using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Telemetry.Protocol;

namespace FedMesh.MirrorController.Telemetry;

/// <summary>
/// What this cluster's proxies (or gateway) measured, over a recent window. Canary analysis,
/// failover triggers and <c>fedmesh latency</c> all read it; nothing else collects request stats.
/// </summary>
internal interface IRequestStatsView
{
    /// <summary>
    /// One summary per key seen in the window, optionally only for one namespace/service.
    /// <paramref name="reporter"/> picks whose view: proxies (what applications saw) or the gateway.
    /// </summary>
    IReadOnlyList<RequestSummary> Query(TimeSpan window, string? @namespace = null, string? service = null, NodeKind reporter = NodeKind.Proxy);

    /// <summary>All requests of <paramref name="service"/> that went to <paramref name="backend"/> (and optionally one destination cluster), merged.</summary>
    RequestSummary Summarize(TimeSpan window, string @namespace, string service, string backend, string? destinationCluster = null);
}
