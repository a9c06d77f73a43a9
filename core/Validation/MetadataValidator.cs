using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>Rules every kind shares: apiVersion, kind and metadata.</summary>
internal sealed class MetadataValidator
{
    public void Validate(Resource resource, ValidationCollector c)
    {
        if (resource.Metadata is null)
        {
            c.Add("metadata", "is required (with at least metadata.name)");
            return;
        }
        FieldChecks.DnsLabel(c, "metadata.name", resource.Metadata.Name);
        FieldChecks.DnsLabel(c, "metadata.namespace", resource.Metadata.Namespace, required: false);
        if (resource.Metadata.Labels is { } labels)
            foreach (var key in labels.Keys)
                if (string.IsNullOrWhiteSpace(key))
                    c.Add("metadata.labels", "a label key must not be empty");
    }
}
