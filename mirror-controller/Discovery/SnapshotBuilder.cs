using System.Security.Cryptography;
using FedMesh.Core.Resources;
using Google.Protobuf;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.MirrorController.Discovery;

/// <summary>
/// Turns the model into a complete, deterministically ordered snapshot. The version is a hash of the
/// content, so it changes exactly when the content does (and stays the same across restarts).
/// </summary>
internal static class SnapshotBuilder
{
    /// <param name="health">Gateway probe verdicts and failover decisions; null: every gateway counts as alive, first targets active.</param>
    public static Proto.Snapshot Build(ModelView model, string cluster, string trustDomain, HealthView? health = null)
    {
        var snapshot = new Proto.Snapshot { Cluster = cluster, TrustDomain = trustDomain };
        var routes = RouteCompiler.Compile(model.TrafficSplits, model.FailoverPolicies, cluster);
        if (health is not null)
            foreach (var (key, active) in health.ActiveTargets)
                if (routes.TryGetValue(key, out var compiled) && compiled.Failover is { } failover && active < failover.Targets.Count)
                    failover.Active = active;

        foreach (var service in model.Services.OrderBy(s => s.Namespace, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal))
        {
            var key = service.Namespace + "/" + service.Name;
            var message = new Proto.Service
            {
                Name = service.Name,
                Namespace = service.Namespace,
                Exported = WellKnown.IsExported(service),
                MirrorOf = service.Metadata.Label(WellKnown.MirrorOfLabel) ?? "",
                MirrorCluster = service.Metadata.Label(WellKnown.MirrorClusterLabel) ?? "",
            };
            if (model.Endpoints.TryGetValue(key, out var endpoints))
                AddEndpoints(message, endpoints, cluster, health);
            if (routes.TryGetValue(key, out var route))
                message.Route = route;
            snapshot.Services.Add(message);
        }

        foreach (var linked in model.Links.Select(l => l.Spec.TargetCluster).Where(c => c.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
            snapshot.LinkedClusters.Add(linked);

        snapshot.Version = VersionOf(snapshot);
        return snapshot;
    }

    private static void AddEndpoints(Proto.Service message, Endpoints endpoints, string cluster, HealthView? health)
    {
        var ordered = endpoints.Spec.Endpoints
            .OrderBy(e => e.Address, StringComparer.Ordinal)
            .ThenBy(e => e.Instance ?? "", StringComparer.Ordinal);
        foreach (var entry in ordered)
        {
            var endpointCluster = string.IsNullOrEmpty(entry.Cluster) ? cluster : entry.Cluster;
            // A gateway the probes declared dead keeps its mirror but takes no traffic.
            var gatewayDead = entry.ViaGateway && health is not null && health.Gateways.IsDead(endpointCluster);
            message.Endpoints.Add(new Proto.Endpoint
            {
                Address = entry.Address,
                Identity = entry.Identity ?? "",
                Cluster = endpointCluster,
                Zone = entry.Zone ?? "",
                Weight = (uint)Math.Max(0, entry.Weight),
                Healthy = entry.Ready && !gatewayDead,
                Instance = entry.Instance ?? "",
                ViaGateway = entry.ViaGateway,
            });
        }
    }

    private static string VersionOf(Proto.Snapshot snapshot)
    {
        // Hash the content with an empty version; protobuf writes fields in number order, so equal content hashes equally.
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(snapshot.ToByteArray(), hash);
        return Convert.ToHexStringLower(hash[..8]);
    }
}

/// <summary>What discovery adds to the stored model: probe verdicts and the failover coordinator's active targets by "namespace/service".</summary>
internal sealed record HealthView(Probing.GatewayHealthBook Gateways, IReadOnlyDictionary<string, uint> ActiveTargets);
