using FedMesh.Gateway.Admin;
using FedMesh.Gateway.Forwarding;
using FedMesh.Gateway.Security;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace FedMesh.Gateway.Hosting;

/// <summary>
/// Both listeners share one Kestrel server; each connection is tagged by the listener that accepted it, so a request
/// on the admin port can never be routed to a backend and a request on the mTLS port never reaches the admin handler.
/// </summary>
internal sealed class ListenerDispatch(GatewayHandler gateway, AdminHandler admin)
{
    private static readonly object AdminKey = new();

    public static void MarkAdmin(ListenOptions listen) => listen.Use(next => connection =>
    {
        connection.Items[AdminKey] = AdminKey;
        return next(connection);
    });

    /// <summary>True for a request that arrived on the admin listener.</summary>
    public static bool IsAdmin(HttpContext context) =>
        context.Features.Get<IConnectionItemsFeature>()?.Items is { } items && items.ContainsKey(AdminKey);

    public Task HandleAsync(HttpContext context)
    {
        if (IsAdmin(context))
        {
            return admin.HandleAsync(context);
        }
        var peer = ConnectionPeer.Of(context);
        if (peer is not null)
        {
            return gateway.HandleAsync(context, peer);
        }
        context.Abort();
        return Task.CompletedTask;
    }
}
