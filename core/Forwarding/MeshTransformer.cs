using FedMesh.Core.Resources;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Forwarding;

/// <summary>
/// What a mesh hop changes on the way through, said once for both ways a request is forwarded: the Host sent
/// upstream, the <c>x-fedmesh-caller</c> it carries, and what happens when the response head arrives. YARP
/// applies it through <see cref="HttpTransformer"/>; the direct HTTP/1.1 path of <see cref="MeshForwarder"/>
/// applies the same hooks while it writes the request and reads the response.
/// </summary>
public abstract class MeshTransformer : HttpTransformer
{
    /// <summary>The Host sent upstream; by default the caller's own.</summary>
    public virtual string UpstreamHost(HttpContext context) => context.Request.Host.Value ?? "";

    /// <summary>The <c>x-fedmesh-caller</c> sent upstream in place of any the request had; null sends none.</summary>
    public abstract string? Caller(HttpContext context);

    /// <summary>
    /// Called when the response head arrived, before anything of it is copied. False drops the response: its
    /// headers and body never reach the client (a 5xx that will be retried elsewhere).
    /// </summary>
    public virtual bool AcceptResponse(HttpContext context, int status) => true;

    /// <summary>Called after the upstream's response headers were copied to the client's response.</summary>
    public virtual void DecorateResponse(HttpContext context)
    {
    }

    public sealed override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix,
        CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        proxyRequest.Headers.Host = UpstreamHost(httpContext);
        var caller = Caller(httpContext);
        proxyRequest.Headers.Remove(WellKnown.CallerIdentityHeader);
        if (caller is not null)
            proxyRequest.Headers.TryAddWithoutValidation(WellKnown.CallerIdentityHeader, caller);
    }

    public sealed override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse,
        CancellationToken cancellationToken)
    {
        if (proxyResponse is not null && !AcceptResponse(httpContext, (int)proxyResponse.StatusCode))
            return false;
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (proxyResponse is not null)
            DecorateResponse(httpContext);
        return copyBody;
    }
}
