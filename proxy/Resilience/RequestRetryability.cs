using Microsoft.AspNetCore.Http;

namespace FedMesh.Proxy.Resilience;

/// <summary>Whether a request may be sent more than once: RFC 9110 idempotent methods, or marked by the app, with a small body.</summary>
internal static class RequestRetryability
{
    /// <summary>True for GET, HEAD, OPTIONS, TRACE, PUT and DELETE (RFC 9110 §9.2.2).</summary>
    public static bool IsIdempotent(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method)
        || HttpMethods.IsTrace(method) || HttpMethods.IsPut(method) || HttpMethods.IsDelete(method);

    /// <summary>
    /// True when the request may be retried: idempotent or marked <c>x-fedmesh-retryable: true</c>, and its body
    /// is absent or of a declared length up to <paramref name="maxBody"/> (a body of unknown length is never retried).
    /// </summary>
    public static bool IsRetryable(HttpRequest request, int maxBody)
    {
        if (!IsIdempotent(request.Method) && !MarkedRetryable(request))
            return false;
        var length = request.ContentLength;
        if (length is { } declared)
            return declared <= maxBody;
        // No Content-Length: a body is present only when chunked (HTTP/1.1) or a stream may follow (HTTP/2).
        return request.Headers.TransferEncoding.Count == 0 && !HasStreamedBody(request);
    }

    private static bool MarkedRetryable(HttpRequest request) =>
        request.Headers.TryGetValue(ResilienceDefaults.RetryableHeader, out var value)
        && value.Count == 1 && string.Equals(value[0], "true", StringComparison.OrdinalIgnoreCase);

    private static bool HasStreamedBody(HttpRequest request) =>
        request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestBodyDetectionFeature>() is { CanHaveBody: true };
}
