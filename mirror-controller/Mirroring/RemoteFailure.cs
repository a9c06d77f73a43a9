using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// Why a link target's services cannot be read, as the Link's Ready condition reports it: a refusal of the
/// link's credentials by the target (401/403) is told apart from a target that cannot be reached, because
/// only its RBAC role or a new <c>fedmesh link</c> fixes it. The watch keeps retrying with backoff either way.
/// </summary>
internal sealed record RemoteFailure(string Reason, string Message)
{
    /// <summary>The target cannot be opened or answered with something other than a refusal.</summary>
    public const string TargetUnreachable = "TargetUnreachable";

    /// <summary>The target answered 403: the link's credentials may not list or watch Services there.</summary>
    public const string Forbidden = "Forbidden";

    /// <summary>The target answered 401: it does not accept the link's credentials at all.</summary>
    public const string Unauthorized = "Unauthorized";

    public static RemoteFailure From(Exception error, Link link)
    {
        var target = link.Spec.TargetCluster;
        var credentials = link.Spec.CredentialsSecret is { Length: > 0 } secret ? $"the credentials in Secret {link.Namespace}/{secret}" : "the link's credentials";
        // Only a refusal by the target itself: a refused read of the credentials Secret in this cluster arrives wrapped in TargetUnreachableException.
        return error switch
        {
            StoreForbiddenException { StatusCode: 401 } => new(Unauthorized,
                $"cluster '{target}' does not accept {credentials} for reading services: {error.Message}"),
            StoreForbiddenException => new(Forbidden,
                $"{credentials} may not read services in cluster '{target}': {error.Message}"),
            _ => new(TargetUnreachable, $"cannot read the services of cluster '{target}': {error.Message}"),
        };
    }
}
