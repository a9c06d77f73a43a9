using FedMesh.Core.Resources;
using FedMesh.Proxy.Resilience;
using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// Request and response changes for one upstream endpoint, built once per snapshot: the Host a
/// remote gateway routes by, our own identity as the caller (an app cannot spoof it), and the
/// answering cluster on the response.
/// </summary>
internal sealed class UpstreamTransformer(string? hostRewrite, string upstreamCluster, string callerIdentity) : HttpTransformer
{
    /// <summary>The Host sent upstream; null keeps the app's own.</summary>
    public string? HostRewrite { get; } = hostRewrite;

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken).ConfigureAwait(false);
        proxyRequest.Headers.Host = HostRewrite ?? httpContext.Request.Host.Value;
        proxyRequest.Headers.Remove(WellKnown.CallerIdentityHeader);
        proxyRequest.Headers.TryAddWithoutValidation(WellKnown.CallerIdentityHeader, callerIdentity);
    }

    public override async ValueTask<bool> TransformResponseAsync(HttpContext httpContext, HttpResponseMessage? proxyResponse, CancellationToken cancellationToken)
    {
        // A 5xx that will be retried elsewhere is dropped before anything reaches the client.
        if (proxyResponse is { StatusCode: >= System.Net.HttpStatusCode.InternalServerError } && httpContext.Features.Get<ForwardRequest>() is { } request
            && request.TryHoldBack((int)proxyResponse.StatusCode))
            return false;
        var copyBody = await base.TransformResponseAsync(httpContext, proxyResponse, cancellationToken).ConfigureAwait(false);
        if (proxyResponse is not null)
            httpContext.Response.Headers[WellKnown.UpstreamClusterHeader] = upstreamCluster;
        return copyBody;
    }
}
