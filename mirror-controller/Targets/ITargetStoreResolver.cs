using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Targets;

/// <summary>
/// Opens the store of the cluster a <see cref="Link"/> points at, so the controller can watch the
/// services it exports. Local mode opens the target's store directory named in the federation
/// config; Kubernetes mode uses the link's credentials secret.
/// </summary>
public interface ITargetStoreResolver
{
    /// <summary>
    /// The target cluster's store. Implementations may cache and share stores between calls.
    /// Throws <see cref="TargetUnreachableException"/> when the target cannot be resolved or opened.
    /// </summary>
    ValueTask<IClusterStore> OpenAsync(Link link, CancellationToken cancellationToken);
}

/// <summary>The store of a link's target cluster could not be resolved or read.</summary>
public sealed class TargetUnreachableException(string message, Exception? inner = null) : Exception(message, inner);
