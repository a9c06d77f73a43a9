using System.Globalization;
using FedMesh.Core.Resources;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>Our <see cref="ObjectMeta"/> and Kubernetes' <see cref="V1ObjectMeta"/>: the fields both have.</summary>
internal static class MetadataMapping
{
    public static V1ObjectMeta ToKubernetes(Resource resource, IDictionary<string, string>? extraLabels = null, IDictionary<string, string>? extraAnnotations = null)
    {
        var meta = resource.Metadata;
        return new V1ObjectMeta
        {
            Name = meta.Name,
            NamespaceProperty = resource.Namespace,
            Labels = Merge(meta.Labels, extraLabels),
            Annotations = Merge(meta.Annotations, extraAnnotations),
            ResourceVersion = string.IsNullOrEmpty(meta.ResourceVersion) ? null : meta.ResourceVersion,
        };
    }

    public static ObjectMeta FromKubernetes(V1ObjectMeta meta, IEnumerable<string>? hiddenLabels = null, IEnumerable<string>? hiddenAnnotations = null) => new()
    {
        Name = meta.Name ?? "",
        Namespace = meta.NamespaceProperty,
        Labels = Without(meta.Labels, hiddenLabels),
        Annotations = Without(meta.Annotations, hiddenAnnotations),
        ResourceVersion = meta.ResourceVersion,
        CreationTimestamp = meta.CreationTimestamp?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    private static Dictionary<string, string>? Merge(Dictionary<string, string>? ours, IDictionary<string, string>? extra)
    {
        if ((ours is null || ours.Count == 0) && (extra is null || extra.Count == 0)) return null;
        var merged = ours is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(ours, StringComparer.Ordinal);
        if (extra is not null)
            foreach (var (k, v) in extra) merged[k] = v;
        return merged;
    }

    private static Dictionary<string, string>? Without(IDictionary<string, string>? source, IEnumerable<string>? hidden)
    {
        if (source is null || source.Count == 0) return null;
        var copy = new Dictionary<string, string>(source, StringComparer.Ordinal);
        if (hidden is not null)
            foreach (var key in hidden) copy.Remove(key);
        return copy.Count == 0 ? null : copy;
    }
}
