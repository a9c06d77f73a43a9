using FedMesh.Core.Resources;
using FedMesh.MirrorController.Discovery;
using FedMesh.MirrorController.Probing;

namespace FedMesh.MirrorController.Failover;

/// <summary>A failover target's healthy share as the controller sees it: ready endpoints, and none behind a dead gateway.</summary>
internal static class TargetHealth
{
    public static int HealthyPercent(ModelView model, GatewayHealthBook book, string @namespace, string service, string targetCluster, string cluster)
    {
        var local = string.IsNullOrEmpty(targetCluster) || targetCluster == cluster;
        var name = local ? service : WellKnown.MirrorName(service, targetCluster);
        if (!model.Endpoints.TryGetValue(@namespace + "/" + name, out var endpoints) || endpoints.Spec.Endpoints.Count == 0)
            return 0;
        var ready = 0;
        foreach (var e in endpoints.Spec.Endpoints)
            if (e.Ready && !(e.ViaGateway && book.IsDead(string.IsNullOrEmpty(e.Cluster) ? targetCluster : e.Cluster)))
                ready++;
        return ready * 100 / endpoints.Spec.Endpoints.Count;
    }
}
