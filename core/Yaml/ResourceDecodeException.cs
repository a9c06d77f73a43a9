namespace FedMesh.Core.Yaml;

/// <summary>
/// A YAML file could not be decoded: broken syntax, unknown fields, duplicate keys, wrong types,
/// unknown kinds or rule violations. <see cref="Errors"/> holds every problem found in one pass;
/// the message prints one "file:line:column: message" line per problem.
/// </summary>
public sealed class ResourceDecodeException : Exception
{
    public ResourceDecodeException(IReadOnlyList<ResourceDecodeError> errors)
        : base(string.Join(Environment.NewLine, errors))
    {
        if (errors.Count == 0)
            throw new ArgumentException("A decode exception needs at least one error.", nameof(errors));
        Errors = errors;
    }

    public IReadOnlyList<ResourceDecodeError> Errors { get; }
}
