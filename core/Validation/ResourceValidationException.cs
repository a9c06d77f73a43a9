using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>A resource broke one or more rules; <see cref="Errors"/> lists every one of them.</summary>
public sealed class ResourceValidationException : Exception
{
    public ResourceValidationException(Resource resource, IReadOnlyList<ValidationError> errors)
        : base(Render(resource, errors))
    {
        Resource = resource.ToString();
        Errors = errors;
    }

    /// <summary>"kind/namespace/name" of the rejected resource.</summary>
    public string Resource { get; }

    public IReadOnlyList<ValidationError> Errors { get; }

    private static string Render(Resource resource, IReadOnlyList<ValidationError> errors)
        => $"{resource} is invalid ({errors.Count} error{(errors.Count == 1 ? "" : "s")}):" + Environment.NewLine
           + string.Join(Environment.NewLine, errors.Select(e => "  " + e));
}
