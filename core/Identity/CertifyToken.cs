namespace FedMesh.Core.Identity;

/// <summary>
/// The credential a workload presents on each Certify call. <see cref="FromFile"/> reads the file again every time,
/// because Kubernetes rotates projected service-account tokens in place; <see cref="Fixed"/> is for tests and embedded use.
/// </summary>
public abstract class CertifyToken
{
    private protected CertifyToken()
    {
    }

    /// <summary>The token to present now.</summary>
    public abstract ValueTask<string> ReadAsync(CancellationToken cancellationToken);

    /// <summary>A token that never changes.</summary>
    public static CertifyToken Fixed(string token)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        return new FixedToken(token);
    }

    /// <summary>The trimmed content of <paramref name="path"/>, read on every call (a bootstrap token file or a projected token).</summary>
    public static CertifyToken FromFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return new FileToken(path);
    }

    private sealed class FixedToken(string token) : CertifyToken
    {
        public override ValueTask<string> ReadAsync(CancellationToken cancellationToken) => ValueTask.FromResult(token);
    }

    private sealed class FileToken(string path) : CertifyToken
    {
        public override async ValueTask<string> ReadAsync(CancellationToken cancellationToken)
        {
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IdentityException($"cannot read the token file '{path}': {e.Message}", e);
            }
            var token = text.Trim();
            return token.Length > 0
                ? token
                : throw new IdentityException($"the token file '{path}' is empty; it must hold the cluster's bootstrap token or the pod's service-account token");
        }
    }
}
