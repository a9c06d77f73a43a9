namespace FedMesh.Core.Validation;

/// <summary>One problem found in a resource.</summary>
/// <param name="Path">The field, as written in YAML: "spec.backends[1].weight"; "" for the whole object.</param>
/// <param name="Message">What is wrong and what is expected: "must be between 0 and 100 (got 120)".</param>
public sealed record ValidationError(string Path, string Message)
{
    /// <summary>"path: message".</summary>
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}
