using FedMesh.Core.Forwarding;
using FedMesh.Core.Resources;
using FedMesh.Proxy.Resilience;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Proxy.Forwarding;

/// <summary>
/// Request and response changes for one upstream endpoint, built once per snapshot: the Host a
/// remote gateway routes by, our own identity as the caller (an app cannot spoof it), and the
/// answering cluster on the response.
/// </summary>
internal sealed class UpstreamTransformer(string? hostRewrite, string upstreamCluster, string callerIdentity) : MeshTransformer
{
    /// <summary>The Host sent upstream; null keeps the app's own.</summary>
    public string? HostRewrite { get; } = hostRewrite;

    public override string UpstreamHost(HttpContext context) => HostRewrite ?? base.UpstreamHost(context);

    /// <summary>Our own SPIFFE id, sent as the caller.</summary>
    public string CallerIdentity { get; } = callerIdentity;

    public override string Caller(HttpContext context) => CallerIdentity;

    // A 5xx that will be retried elsewhere is dropped before anything reaches the client.
    public override bool AcceptResponse(HttpContext context, int status) =>
        status < StatusCodes.Status500InternalServerError || context.Features.Get<ForwardRequest>() is not { } request || !request.TryHoldBack(status);

    public override void DecorateResponse(HttpContext context) => context.Response.Headers[WellKnown.UpstreamClusterHeader] = upstreamCluster;
}
