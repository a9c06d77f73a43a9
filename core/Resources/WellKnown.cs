namespace FedMesh.Core.Resources;

/// <summary>Labels, annotations and names shared by every part.</summary>
public static class WellKnown
{
    public const string ApiVersion = "fedmesh.io/v1alpha1";

    /// <summary>A service is exported to linked clusters when this label is "true". Nothing is exported by default.</summary>
    public const string ExportedLabel = "fedmesh.io/exported";

    /// <summary>On a mirrored service: the remote service's name.</summary>
    public const string MirrorOfLabel = "fedmesh.io/mirror-of";

    /// <summary>On a mirrored service: the cluster it is mirrored from.</summary>
    public const string MirrorClusterLabel = "fedmesh.io/mirror-cluster";

    /// <summary>The namespace control-plane resources (Links) live in.</summary>
    public const string SystemNamespace = "fedmesh-system";

    /// <summary>Header a gateway sets to the verified SPIFFE id of the calling cluster's proxy.</summary>
    public const string CallerIdentityHeader = "x-fedmesh-caller";

    /// <summary>Header the proxy sets on responses: the cluster whose endpoint answered.</summary>
    public const string UpstreamClusterHeader = "x-fedmesh-upstream-cluster";

    /// <summary>Path every gateway answers for liveness probes (no client routing).</summary>
    public const string GatewayProbePath = "/fedmesh/probe";

    /// <summary>Name of a mirror of <paramref name="service"/> from <paramref name="cluster"/>.</summary>
    public static string MirrorName(string service, string cluster) => $"{service}-{cluster}";

    public static bool IsExported(Resource r) => string.Equals(r.Metadata.Label(ExportedLabel), "true", StringComparison.Ordinal);
}
