using FedMesh.Gateway.Hosting;
using Microsoft.Extensions.Logging;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Gateway.Routing;

/// <summary>
/// Compiles each snapshot (and recompiles the last one when our certificate is renewed) and swaps the result into
/// <see cref="GatewayState"/>. A snapshot that fails to compile leaves the previous routes in place.
/// </summary>
internal sealed class RouteUpdater(GatewayState state, GatewayRoutesBuilder builder, ILogger logger)
{
    private readonly Lock _lock = new();
    private Proto.Snapshot? _last;

    public void Apply(Proto.Snapshot snapshot)
    {
        lock (_lock)
        {
            var first = state.Routes is null;
            if (!TryBuild(snapshot, out var routes))
            {
                return;
            }
            _last = snapshot;
            state.Routes = routes;
            var linked = string.Join(", ", routes.LinkedClusters.Order(StringComparer.Ordinal));
            if (first)
            {
                GatewayLog.Ready(logger, routes.Version, CountServices(snapshot), linked);
            }
            else
            {
                GatewayLog.SnapshotApplied(logger, routes.Version, CountServices(snapshot), linked);
            }
        }
    }

    /// <summary>Recompiles the last snapshot so every upstream client picks up a renewed certificate.</summary>
    public void Rebuild()
    {
        lock (_lock)
        {
            if (_last is not null && TryBuild(_last, out var routes))
            {
                state.Routes = routes;
                GatewayLog.ClientsRebuilt(logger);
            }
        }
    }

    private bool TryBuild(Proto.Snapshot snapshot, out GatewayRoutes routes)
    {
        try
        {
            routes = builder.Build(snapshot);
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            GatewayLog.SnapshotFailed(logger, snapshot.Version, e);
            routes = null!;
            return false;
        }
    }

    private static int CountServices(Proto.Snapshot snapshot) => snapshot.Services.Count;
}
