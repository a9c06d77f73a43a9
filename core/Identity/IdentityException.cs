namespace FedMesh.Core.Identity;

/// <summary>An identity operation failed: a malformed SPIFFE id or CSR, a refused certificate, unusable CA files.</summary>
public sealed class IdentityException : Exception
{
    public IdentityException(string message) : base(message) { }

    public IdentityException(string message, Exception inner) : base(message, inner) { }
}
