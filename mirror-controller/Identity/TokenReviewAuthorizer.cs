using System.Net;
using FedMesh.Core.Identity;
using FedMesh.Core.Kubernetes;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace FedMesh.MirrorController.Identity;

/// <summary>
/// Kubernetes mode: the caller presents its pod's projected service-account token (audience <c>fedmesh</c>), the API
/// server reviews it (TokenReview), and the caller may hold exactly one identity, the one of its ServiceAccount:
/// <c>spiffe://TD/cluster/THIS/ns/SA-NAMESPACE/sa/SA-NAME</c>. Needs <c>create</c> on <c>tokenreviews</c>.
/// </summary>
internal sealed class TokenReviewAuthorizer(IKubernetes client, string trustDomain, string cluster) : ICertifyAuthorizer
{
    private const string ServiceAccountPrefix = "system:serviceaccount:";

    public async ValueTask<CertifyDecision> AuthorizeAsync(string token, string identity, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(token))
            return CertifyDecision.Unauthenticated("no token presented; mount a projected service-account token of audience 'fedmesh' and pass it as --TokenFile");
        V1TokenReview reviewed;
        try
        {
            reviewed = await client.AuthenticationV1.CreateTokenReviewAsync(new V1TokenReview
            {
                ApiVersion = "authentication.k8s.io/v1",
                Kind = "TokenReview",
                Spec = new V1TokenReviewSpec { Token = token, Audiences = [InstallDefaults.TokenAudience] },
            }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized)
        {
            // Our own RBAC is wrong, not the caller's token: retryable for the caller once an operator fixes it.
            return CertifyDecision.Unavailable(
                $"the controller may not review tokens ({(int)e.Response.StatusCode}); its ClusterRole needs 'create' on tokenreviews.authentication.k8s.io (reinstall with 'fedmesh install')");
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException
                                      || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return CertifyDecision.Unavailable($"cannot review the token with the Kubernetes API: {e.Message}");
        }
        return Decide(reviewed.Status, identity);
    }

    private CertifyDecision Decide(V1TokenReviewStatus? status, string identity)
    {
        if (status?.Authenticated != true)
            return CertifyDecision.Unauthenticated(
                $"the Kubernetes API rejected the token{(string.IsNullOrEmpty(status?.Error) ? "" : $": {status.Error}")}; present the pod's projected service-account token of audience '{InstallDefaults.TokenAudience}'");
        // An API server that ignores audiences would accept any of the pod's tokens; only a token made for us counts.
        if (status.Audiences is { Count: > 0 } audiences && !audiences.Contains(InstallDefaults.TokenAudience))
            return CertifyDecision.Unauthenticated($"the token is not for audience '{InstallDefaults.TokenAudience}'");
        var user = status.User?.Username ?? "";
        if (!TryServiceAccount(user, out var ns, out var serviceAccount))
            return CertifyDecision.Denied($"'{user}' is not a service account; only pods' service-account tokens get identities");
        var allowed = SpiffeId.Create(trustDomain, cluster, ns, serviceAccount).ToString();
        return string.Equals(identity, allowed, StringComparison.Ordinal)
            ? CertifyDecision.Allow
            : CertifyDecision.Denied($"service account {ns}/{serviceAccount} may only hold '{allowed}'; run the workload as the service account of the identity it asks for");
    }

    private static bool TryServiceAccount(string user, out string ns, out string serviceAccount)
    {
        ns = serviceAccount = "";
        if (!user.StartsWith(ServiceAccountPrefix, StringComparison.Ordinal)) return false;
        var parts = user[ServiceAccountPrefix.Length..].Split(':');
        if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0) return false;
        (ns, serviceAccount) = (parts[0], parts[1]);
        return true;
    }
}
