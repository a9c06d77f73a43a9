using System.Collections.Frozen;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry;
using FedMesh.Proxy.Forwarding;
using FedMesh.Proxy.Failover;
using FedMesh.Proxy.LoadBalancing;
using FedMesh.Proxy.Resilience;
using Microsoft.Extensions.Logging;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Proxy.Routing;

/// <summary>Compiles a discovery snapshot into a <see cref="RoutingTable"/>. Not thread-safe; callers serialize.</summary>
internal sealed class RoutingTableBuilder(string proxyNamespace, string callerIdentity, PeerClientPool clients, RequestStatsRecorder stats,
    EndpointStateRegistry states, Random random, TimeProvider time, ILogger logger)
{
    private static readonly TimeSpan FailureLogInterval = TimeSpan.FromSeconds(5);

    public RoutingTable Build(Proto.Snapshot snapshot)
    {
        try
        {
            var table = BuildTable(snapshot);
            states.Commit();
            return table;
        }
        catch
        {
            states.Abandon();
            throw;
        }
    }

    private RoutingTable BuildTable(Proto.Snapshot snapshot)
    {
        var identities = new HashSet<string>(StringComparer.Ordinal);
        var sets = new Dictionary<string, BackendSet>(StringComparer.OrdinalIgnoreCase);
        foreach (var service in snapshot.Services)
        {
            var set = BuildBackendSet(snapshot, service, identities);
            if (!sets.TryAdd(set.DisplayName, set))
                ProxyLog.DuplicateService(logger, set.DisplayName, snapshot.Version);
        }

        var routes = new Dictionary<string, ServiceRoute>(StringComparer.OrdinalIgnoreCase);
        var names = new List<string>(sets.Count);
        foreach (var service in snapshot.Services)
        {
            var self = sets[NameOf(service)];
            if (routes.ContainsKey(self.DisplayName))
                continue;
            var route = new ServiceRoute(self, BuildPolicy(snapshot, service, self, sets), stats, snapshot.Cluster);
            routes[self.DisplayName] = route;
            routes[self.DisplayName + ".svc"] = route;
            routes[self.DisplayName + ".svc.cluster.local"] = route;
            if (string.Equals(self.Namespace, proxyNamespace, StringComparison.OrdinalIgnoreCase))
                routes.TryAdd(self.Service, route);
            names.Add(self.DisplayName);
        }
        names.Sort(StringComparer.Ordinal);
        var known = names.Count == 0 ? "(none)" : string.Join(", ", names);
        return new RoutingTable(snapshot.Version, routes.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), known, identities);
    }

    private static string NamespaceOf(string ns) => string.IsNullOrEmpty(ns) ? ObjectMeta.DefaultNamespace : ns;

    private static string NameOf(Proto.Service service) => service.Name + "." + NamespaceOf(service.Namespace);

    private BackendSet BuildBackendSet(Proto.Snapshot snapshot, Proto.Service service, HashSet<string> identities)
    {
        var ns = NamespaceOf(service.Namespace);
        // A remote gateway routes by the remote service's own name.
        var gatewayHost = string.IsNullOrEmpty(service.MirrorOf) ? service.Name + "." + ns : service.MirrorOf + "." + ns;
        var endpoints = new List<UpstreamEndpoint>(service.Endpoints.Count);
        foreach (var ep in service.Endpoints)
        {
            if (!ep.Healthy)
            {
                states.MarkUnhealthy(ep.Address, ep.Identity);
                continue;
            }
            if (string.IsNullOrEmpty(ep.Address) || string.IsNullOrEmpty(ep.Identity))
            {
                ProxyLog.EndpointSkipped(logger, service.Name, ns, ep.Address, "it has no address or no identity");
                continue;
            }
            var cluster = string.IsNullOrEmpty(ep.Cluster) ? snapshot.Cluster : ep.Cluster;
            var transformer = new UpstreamTransformer(ep.ViaGateway ? gatewayHost : null, cluster, callerIdentity);
            endpoints.Add(new UpstreamEndpoint(ep.Address, ep.Identity, cluster, string.IsNullOrEmpty(ep.Zone) ? null : ep.Zone,
                ep.ViaGateway, clients.Get(ep.Identity), transformer)
            {
                FailureLog = new LogThrottle(time, FailureLogInterval),
                State = states.Get(ep.Address, ep.Identity),
            });
            identities.Add(ep.Identity);
        }
        return new BackendSet(service.Name, ns, endpoints.ToArray(), new PeakEwmaBalancer(random, time), service.Endpoints.Count);
    }

    private IBackendPolicy BuildPolicy(Proto.Snapshot snapshot, Proto.Service service, BackendSet self, Dictionary<string, BackendSet> sets)
    {
        var route = service.Route;
        if (route?.Failover is { Targets.Count: > 0 } failover)
            return BuildFailover(snapshot, failover, self, sets);
        if (route is null || route.Backends.Count == 0)
            return new SingleBackendPolicy(self);

        var backends = new List<BackendSet>(route.Backends.Count);
        var weights = new List<int>(route.Backends.Count);
        BackendSet? firstResolved = null;
        foreach (var backend in route.Backends)
        {
            var key = backend.Service + "." + NamespaceOf(string.IsNullOrEmpty(backend.Namespace) ? self.Namespace : backend.Namespace);
            if (!sets.TryGetValue(key, out var set))
            {
                ProxyLog.RouteBackendUnknown(logger, self.DisplayName, key, snapshot.Version);
                continue;
            }
            firstResolved ??= set;
            // A backend without healthy endpoints or without weight gets no traffic.
            if (backend.Weight == 0 || set.Endpoints.Length == 0)
                continue;
            backends.Add(set);
            weights.Add((int)Math.Min(backend.Weight, int.MaxValue / 1024));
        }
        if (backends.Count == 0)
            return new SingleBackendPolicy(firstResolved ?? self);
        return new SmoothWeightedPolicy(backends.ToArray(), weights.ToArray());
    }

    private FailoverBackendPolicy BuildFailover(Proto.Snapshot snapshot, Proto.Failover failover, BackendSet self, Dictionary<string, BackendSet> sets)
    {
        var targets = new BackendSet[failover.Targets.Count];
        for (var i = 0; i < targets.Length; i++)
        {
            var target = failover.Targets[i];
            var key = target.Service + "." + NamespaceOf(string.IsNullOrEmpty(target.Namespace) ? self.Namespace : target.Namespace);
            if (!sets.TryGetValue(key, out var set))
            {
                // Not mirrored (yet): an empty target, skipped by the policy.
                ProxyLog.RouteBackendUnknown(logger, self.DisplayName, key, snapshot.Version);
                set = new BackendSet(target.Service, self.Namespace, [], new PeakEwmaBalancer(random, time), 0);
            }
            targets[i] = set;
        }
        return new FailoverBackendPolicy(targets, (int)failover.Active, (int)failover.MinHealthyPercent,
            failover.MaxSpillPercent == 0 ? 100 : (int)failover.MaxSpillPercent);
    }
}
