using Microsoft.AspNetCore.Http;

namespace FedMesh.Gateway.Forwarding;

/// <summary>Plain-text answers the gateway gives itself, tagged with <c>x-fedmesh-error</c> so callers can tell them from upstream ones.</summary>
internal static class ErrorResponse
{
    public const string Header = "x-fedmesh-error";
    public const string NotReady = "gateway-not-ready";
    public const string PeerRefused = "peer-refused";
    public const string NotLinked = "cluster-not-linked";
    public const string NotExported = "not-exported";
    public const string NoEndpoints = "no-endpoints";
    public const string UpstreamUnavailable = "upstream-unavailable";
    public const string MissingHost = "missing-host";

    public static Task WriteAsync(HttpContext context, int status, string? code, byte[] body)
    {
        var response = context.Response;
        response.Clear();
        response.StatusCode = status;
        if (code is not null)
        {
            response.Headers[Header] = code;
        }
        response.ContentType = "text/plain; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }
}
