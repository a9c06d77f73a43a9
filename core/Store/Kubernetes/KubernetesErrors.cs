using System.Net;
using System.Text.Json;
using FedMesh.Core.Resources;
using FedMesh.Core.Validation;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>Turns API server answers into the store contract's exceptions, with the server's own reason.</summary>
internal static class KubernetesErrors
{
    public static bool IsNotFound(Exception e) => e is HttpOperationException { Response.StatusCode: HttpStatusCode.NotFound };

    /// <summary>410 Gone: the resourceVersion a watch asked for is older than the server's history.</summary>
    public static bool IsGone(Exception e) => e switch
    {
        HttpOperationException { Response.StatusCode: HttpStatusCode.Gone } => true,
        k8s.KubernetesException { Status.Code: 410 } => true,
        _ => false,
    };

    /// <summary>The store exception for <paramref name="e"/>, or <paramref name="e"/> itself when it has no better name.</summary>
    public static Exception Translate(Exception e, string cluster, string what, Resource? resource = null)
    {
        if (e is not HttpOperationException http)
        {
            if (e is k8s.KubernetesException { Status: { } streamed })
                return FromStatus((HttpStatusCode)(streamed.Code ?? 500), streamed.Message ?? streamed.Reason ?? "", cluster, what, e, null);
            return e;
        }
        var status = ParseStatus(http.Response.Content);
        var reason = status?.Message ?? http.Response.ReasonPhrase ?? http.Message;
        return FromStatus(http.Response.StatusCode, reason, cluster, what, e, resource, status);
    }

    private static Exception FromStatus(HttpStatusCode code, string reason, string cluster, string what, Exception inner, Resource? resource, V1Status? status = null) => code switch
    {
        HttpStatusCode.Conflict => new StoreConflictException($"{what} in cluster '{cluster}': {reason}; read the object again and retry"),
        HttpStatusCode.NotFound => new StoreNotFoundException($"{what} in cluster '{cluster}': {reason}"),
        HttpStatusCode.Forbidden => new StoreForbiddenException($"{what} in cluster '{cluster}' is forbidden: {reason}; grant the verb in the RBAC role bound to these credentials", 403, inner),
        HttpStatusCode.Unauthorized => new StoreForbiddenException($"{what} in cluster '{cluster}': the API server did not accept the credentials ({reason}); renew the token or fix the kubeconfig", 401, inner),
        HttpStatusCode.UnprocessableEntity when resource is not null => new ResourceValidationException(resource, Causes(status, reason)),
        _ => new InvalidOperationException($"{what} in cluster '{cluster}' failed with HTTP {(int)code}: {reason}", inner),
    };

    private static IReadOnlyList<ValidationError> Causes(V1Status? status, string reason)
    {
        var causes = status?.Details?.Causes;
        if (causes is null || causes.Count == 0)
            return [new ValidationError("", $"rejected by the API server: {reason}")];
        return causes.Select(c => new ValidationError(c.Field ?? "", c.Message ?? c.Reason ?? "invalid")).ToList();
    }

    private static V1Status? ParseStatus(string? content)
    {
        if (string.IsNullOrEmpty(content)) return null;
        try
        {
            return k8s.KubernetesJson.Deserialize<V1Status>(content);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
