using FedMesh.Core.Forwarding;
using FedMesh.Gateway.Security;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Gateway.Forwarding;

/// <summary>
/// Keeps the original Host (the destination proxy and app see the name the caller used) and replaces any
/// <c>x-fedmesh-caller</c> the client sent with the verified SPIFFE id of the connection's peer.
/// </summary>
internal sealed class CallerTransformer : MeshTransformer
{
    public override string? Caller(HttpContext context) => ConnectionPeer.Of(context) is { IdText.Length: > 0 } peer ? peer.IdText : null;
}
