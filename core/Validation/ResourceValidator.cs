using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>Checks a resource against the rules of its kind and reports every problem at once.</summary>
public static class ResourceValidator
{
    private static readonly MetadataValidator Metadata = new();
    private static readonly ServiceValidator Services = new();
    private static readonly EndpointsValidator Endpoints = new();
    private static readonly LinkValidator Links = new();
    private static readonly TrafficSplitValidator Splits = new();
    private static readonly FailoverPolicyValidator Failovers = new();

    /// <summary>Every rule the resource breaks, in field order; empty when it is valid.</summary>
    public static IReadOnlyList<ValidationError> Validate(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var c = new ValidationCollector();
        Metadata.Validate(resource, c);
        switch (resource)
        {
            case Service { Spec: { } spec }: Services.Validate(spec, c); break;
            case Resources.Endpoints { Spec: { } spec }: Endpoints.Validate(spec, c); break;
            case Link { Spec: { } spec }: Links.Validate(spec, c); break;
            case TrafficSplit { Spec: { } spec }: Splits.Validate(spec, c); break;
            case FailoverPolicy { Spec: { } spec }: Failovers.Validate(spec, c); break;
            case Service or Resources.Endpoints or Link or TrafficSplit or FailoverPolicy: c.Add("spec", "is required"); break;
            default: c.Add("kind", $"\"{resource.Kind}\" has no validator; known kinds: {string.Join(", ", ResourceKinds.All.Select(k => k.Kind))}"); break;
        }
        return c.Errors;
    }

    /// <summary>Throws <see cref="ResourceValidationException"/> listing every problem, if there is any.</summary>
    public static void EnsureValid(Resource resource)
    {
        var errors = Validate(resource);
        if (errors.Count > 0)
            throw new ResourceValidationException(resource, errors);
    }
}
