using FedMesh.Core.Canary;
using FedMesh.Core.Resources;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.MirrorController.Discovery;

/// <summary>
/// Compiles TrafficSplits and FailoverPolicies into routes by "namespace/service". A backend in another
/// cluster is that cluster's mirror (<c>service-cluster</c>); one in this cluster (or naming none) is the service itself.
/// When several objects name the same service, the one whose name sorts first wins.
/// </summary>
internal static class RouteCompiler
{
    public static Dictionary<string, Proto.Route> Compile(IEnumerable<TrafficSplit> splits, IEnumerable<FailoverPolicy> policies, string cluster)
    {
        var routes = new Dictionary<string, Proto.Route>(StringComparer.Ordinal);

        foreach (var split in splits.OrderBy(s => s.Namespace, StringComparer.Ordinal).ThenBy(s => s.Name, StringComparer.Ordinal))
        {
            if (split.Spec.Service.Length == 0)
                continue;
            var route = RouteFor(routes, split.Namespace, split.Spec.Service);
            if (route.Backends.Count > 0)
                continue;
            // A running (or finished) progressive canary owns the weights: they live in status.
            foreach (var backend in SplitWeights.Effective(split))
                route.Backends.Add(Backend(backend.Service.Length > 0 ? backend.Service : split.Spec.Service, split.Namespace, backend.Cluster, backend.Weight, cluster));
        }

        foreach (var policy in policies.OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal))
        {
            if (policy.Spec.Service.Length == 0 || policy.Spec.Targets.Count == 0)
                continue;
            var route = RouteFor(routes, policy.Namespace, policy.Spec.Service);
            if (route.Failover is not null)
                continue;
            var failover = new Proto.Failover
            {
                MinHealthyPercent = (uint)Math.Clamp(policy.Spec.Trigger?.MinHealthyPercent ?? new FailoverTrigger().MinHealthyPercent, 0, 100),
                MaxSpillPercent = (uint)Math.Clamp(policy.Spec.MaxSpillPercent, 0, 100),
                // Which target is active is decided by the failover state machine; until it runs, the first.
                Active = 0,
            };
            foreach (var target in policy.Spec.Targets)
                failover.Targets.Add(Backend(policy.Spec.Service, policy.Namespace, target.Cluster, 1, cluster));
            route.Failover = failover;
        }
        return routes;
    }

    /// <summary>The backend for <paramref name="service"/> in <paramref name="backendCluster"/> as seen from <paramref name="cluster"/>.</summary>
    public static Proto.WeightedBackend Backend(string service, string @namespace, string? backendCluster, int weight, string cluster)
    {
        var local = string.IsNullOrEmpty(backendCluster) || string.Equals(backendCluster, cluster, StringComparison.Ordinal);
        return new Proto.WeightedBackend
        {
            Service = local ? service : WellKnown.MirrorName(service, backendCluster!),
            Namespace = @namespace,
            Cluster = local ? cluster : backendCluster!,
            Weight = (uint)Math.Max(0, weight),
        };
    }

    private static Proto.Route RouteFor(Dictionary<string, Proto.Route> routes, string @namespace, string service)
    {
        var key = @namespace + "/" + service;
        if (!routes.TryGetValue(key, out var route))
            routes[key] = route = new Proto.Route();
        return route;
    }
}
