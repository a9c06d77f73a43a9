using System.Security.Cryptography;
using System.Text;

namespace FedMesh.Core.Identity;

/// <summary>
/// The local federation's check: the presented token must be the cluster's bootstrap token (compared in constant time).
/// A wrong token is <c>PermissionDenied</c>, as it always was, so local callers see no change.
/// </summary>
internal sealed class BootstrapTokenAuthorizer : ICertifyAuthorizer
{
    private readonly byte[] _token;
    private readonly CertifyDecision _wrongToken;

    public BootstrapTokenAuthorizer(string cluster, string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        _token = Encoding.UTF8.GetBytes(token);
        _wrongToken = CertifyDecision.Denied(
            $"the bootstrap token is not the one of cluster '{cluster}'; use the token from the cluster's token file");
    }

    public ValueTask<CertifyDecision> AuthorizeAsync(string token, string identity, CancellationToken cancellationToken) =>
        ValueTask.FromResult(CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(token), _token)
            ? CertifyDecision.Allow
            : _wrongToken);
}
