using FedMesh.Core.Resources;
using FedMesh.Gateway.Security;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Gateway.Forwarding;

/// <summary>
/// Keeps the original Host (the destination proxy and app see the name the caller used) and replaces any
/// <c>x-fedmesh-caller</c> the client sent with the verified SPIFFE id of the connection's peer.
/// </summary>
internal sealed class CallerTransformer : HttpTransformer
{
    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest,
        string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        proxyRequest.Headers.Host = httpContext.Request.Host.Value;
        proxyRequest.Headers.Remove(WellKnown.CallerIdentityHeader);
        var peer = ConnectionPeer.Of(httpContext);
        if (peer is not null && peer.IdText.Length > 0)
        {
            proxyRequest.Headers.TryAddWithoutValidation(WellKnown.CallerIdentityHeader, peer.IdText);
        }
    }
}
