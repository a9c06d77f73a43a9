namespace FedMesh.Core.Resources;

/// <summary>
/// A Kubernetes-shaped object: apiVersion, kind, metadata, spec, status. The same YAML works
/// with <c>fedmesh apply</c> against the local store and with <c>kubectl apply</c>.
/// Resources are plain data: a store hands out fresh copies, so callers may change what they get.
/// </summary>
public abstract class Resource
{
    public string ApiVersion { get; set; } = "";
    public string Kind { get; set; } = "";
    public ObjectMeta Metadata { get; set; } = new();

    /// <summary>The namespace, or <see cref="ObjectMeta.DefaultNamespace"/> when none is set.</summary>
    public string Namespace => string.IsNullOrEmpty(Metadata.Namespace) ? ObjectMeta.DefaultNamespace : Metadata.Namespace;

    public string Name => Metadata.Name;

    /// <summary>"kind/namespace/name", for messages.</summary>
    public override string ToString() => $"{Kind}/{Namespace}/{Name}";
}

/// <summary>A resource with a desired state (spec) and an observed state (status).</summary>
public abstract class Resource<TSpec, TStatus> : Resource
    where TSpec : class, new()
    where TStatus : class, new()
{
    public TSpec Spec { get; set; } = new();
    public TStatus? Status { get; set; }
}

public sealed class ObjectMeta
{
    public const string DefaultNamespace = "default";

    public string Name { get; set; } = "";
    public string? Namespace { get; set; }
    public Dictionary<string, string>? Labels { get; set; }
    public Dictionary<string, string>? Annotations { get; set; }

    /// <summary>Opaque version set by the store; an update must carry the version it read (compare-and-swap).</summary>
    public string? ResourceVersion { get; set; }

    /// <summary>RFC 3339 time the store first saw the object.</summary>
    public string? CreationTimestamp { get; set; }

    public string? Label(string key) => Labels is not null && Labels.TryGetValue(key, out var v) ? v : null;
}

/// <summary>A status condition, as in Kubernetes.</summary>
public sealed class Condition
{
    public string Type { get; set; } = "";
    public string Status { get; set; } = "";   // "True" | "False" | "Unknown"
    public string? Reason { get; set; }
    public string? Message { get; set; }
    public string? LastTransitionTime { get; set; }
}
