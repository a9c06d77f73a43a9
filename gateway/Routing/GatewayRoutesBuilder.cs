using System.Collections.Frozen;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Gateway.Forwarding;
using Microsoft.Extensions.Logging;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Gateway.Routing;

/// <summary>Compiles a discovery snapshot into <see cref="GatewayRoutes"/>. Not thread-safe; callers serialize.</summary>
internal sealed class GatewayRoutesBuilder(string cluster, PeerClientPool clients, ILogger logger)
{
    public GatewayRoutes Build(Proto.Snapshot snapshot)
    {
        var byHost = new Dictionary<string, GatewayService>(StringComparer.OrdinalIgnoreCase);
        var identities = new HashSet<string>(StringComparer.Ordinal);
        foreach (var service in snapshot.Services)
        {
            var ns = string.IsNullOrEmpty(service.Namespace) ? ObjectMeta.DefaultNamespace : service.Namespace;
            var displayName = service.Name + "." + ns;
            if (byHost.ContainsKey(displayName))
            {
                GatewayLog.DuplicateService(logger, displayName, snapshot.Version);
                continue;
            }
            // A mirror is another cluster's service: re-exporting it would let traffic hop across clusters.
            var reachable = service.Exported && string.IsNullOrEmpty(service.MirrorOf);
            var endpoints = reachable ? HealthyEndpoints(service, displayName, identities) : [];
            var compiled = new GatewayService(displayName, reachable, endpoints, cluster);
            byHost[displayName] = compiled;
            byHost.TryAdd(displayName + ".svc", compiled);
            byHost.TryAdd(displayName + ".svc.cluster.local", compiled);
            if (ns == ObjectMeta.DefaultNamespace)
            {
                byHost.TryAdd(service.Name, compiled);
            }
        }
        clients.RetainOnly(identities);
        var linked = new HashSet<string>(snapshot.LinkedClusters, StringComparer.Ordinal);
        return new GatewayRoutes(snapshot.Version, byHost.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase), linked.ToFrozenSet(StringComparer.Ordinal));
    }

    private GatewayEndpoint[] HealthyEndpoints(Proto.Service service, string displayName, HashSet<string> identities)
    {
        var endpoints = new List<GatewayEndpoint>(service.Endpoints.Count);
        foreach (var endpoint in service.Endpoints)
        {
            if (!endpoint.Healthy)
            {
                continue;
            }
            if (string.IsNullOrEmpty(endpoint.Address))
            {
                GatewayLog.EndpointSkipped(logger, displayName, "(none)", "it has no address");
                continue;
            }
            if (!SpiffeId.TryParse(endpoint.Identity, out _, out var error))
            {
                GatewayLog.EndpointSkipped(logger, displayName, endpoint.Address, $"its identity cannot be verified: {error}");
                continue;
            }
            identities.Add(endpoint.Identity);
            endpoints.Add(new GatewayEndpoint(endpoint.Address, endpoint.Identity, clients.Get(endpoint.Identity)));
        }
        return endpoints.ToArray();
    }
}
