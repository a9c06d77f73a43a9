using System.Text;
using System.Text.Json;
using FedMesh.Core.Resources;
using FedMesh.Core.Validation;

namespace FedMesh.Core.Yaml;

/// <summary>
/// Strict YAML for resources: unknown fields, duplicate keys, wrong types, unknown kinds and rule
/// violations are all errors, reported together with file:line:column. Field names are camelCase.
/// Thread-safe.
/// </summary>
public static class ResourceCodec
{
    /// <summary>
    /// Decodes every document of a (multi-document) YAML text into resources of the kind each
    /// names, and validates them. Empty documents are skipped.
    /// </summary>
    /// <param name="text">The YAML text.</param>
    /// <param name="fileName">The name used in error messages ("policy.yaml").</param>
    /// <exception cref="ResourceDecodeException">Lists every problem found, each with its position.</exception>
    public static IReadOnlyList<Resource> Decode(string text, string fileName)
        => Decode(text, fileName, validate: true);

    /// <summary>As <see cref="Decode(string, string)"/>; with <paramref name="validate"/> false only the schema is checked.</summary>
    public static IReadOnlyList<Resource> Decode(string text, string fileName, bool validate)
    {
        ArgumentNullException.ThrowIfNull(text);
        var decoder = new DocumentDecoder(text, fileName);
        var objects = decoder.Decode(
            (document, problems) => DocumentKinds.Resolve(document, problems)?.Type,
            validate ? o => ResourceValidator.Validate((Resource)o) : null);
        return objects.Cast<Resource>().ToList();
    }

    /// <summary>
    /// Decodes a single-document YAML text into <typeparamref name="T"/> with the same strictness
    /// (for files that are not resources, such as the federation config).
    /// </summary>
    /// <param name="validate">Optional rules whose error paths are mapped back to positions.</param>
    /// <exception cref="ResourceDecodeException">Lists every problem found, each with its position.</exception>
    public static T DecodeObject<T>(string text, string fileName, Func<T, IReadOnlyList<ValidationError>>? validate = null) where T : class
    {
        ArgumentNullException.ThrowIfNull(text);
        var decoder = new DocumentDecoder(text, fileName);
        var seen = 0;
        var objects = decoder.Decode(
            (document, problems) =>
            {
                if (++seen == 1) return typeof(T);
                problems.Add((document.Start, $"expected a single YAML document, found another one; remove the extra \"---\" section"));
                return null;
            },
            validate is null ? null : o => validate((T)o));
        return objects.Count == 1
            ? (T)objects[0]
            : throw new ResourceDecodeException([new ResourceDecodeError(fileName, 1, 1, $"the file is empty; expected a {typeof(T).Name} document")]);
    }

    /// <summary>YAML for one resource: camelCase, nulls omitted, fields in a stable order.</summary>
    public static string Encode(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        return YamlSettings.Serializer.Serialize(resource, resource.GetType());
    }

    /// <summary>Several resources as one multi-document YAML text, separated by "---".</summary>
    public static string Encode(IEnumerable<Resource> resources)
    {
        var sb = new StringBuilder();
        foreach (var r in resources)
        {
            if (sb.Length > 0) sb.Append("---\n");
            sb.Append(Encode(r));
        }
        return sb.ToString();
    }

    /// <summary>YAML for any object (configuration files), with the same conventions as resources.</summary>
    public static string EncodeObject(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return YamlSettings.Serializer.Serialize(value, value.GetType());
    }

    /// <summary>Indented camelCase JSON, nulls omitted (the CLI's <c>-o json</c>).</summary>
    public static string EncodeJson(object value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return JsonSerializer.Serialize(value, value.GetType(), YamlSettings.Json);
    }
}
