namespace FedMesh.Core.Store;

/// <summary>
/// The store refused the credentials it was given for an operation (Kubernetes: 401 Unauthorized or
/// 403 Forbidden). Not retryable as is: a caller should report it (for example as a condition on the
/// Link whose credentials these are) and fix the credentials or their RBAC role.
/// </summary>
public sealed class StoreForbiddenException(string message, int statusCode = 403, Exception? inner = null) : Exception(message, inner)
{
    /// <summary>The HTTP status the store answered: 401 (not authenticated) or 403 (not allowed).</summary>
    public int StatusCode { get; } = statusCode;
}
