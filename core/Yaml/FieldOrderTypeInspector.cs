using YamlDotNet.Core;
using YamlDotNet.Serialization;

namespace FedMesh.Core.Yaml;

/// <summary>
/// Restricts YamlDotNet to the fields of <see cref="YamlMembers"/> (no computed properties) and
/// emits them in that stable order: apiVersion, kind, metadata, spec, status.
/// </summary>
internal sealed class FieldOrderTypeInspector(ITypeInspector inner) : ITypeInspector
{
    public IEnumerable<IPropertyDescriptor> GetProperties(Type type, object? container)
    {
        var members = YamlMembers.Of(type);
        var byName = inner.GetProperties(type, container).ToDictionary(p => p.Name, StringComparer.Ordinal);
        foreach (var m in members)
            if (byName.TryGetValue(m.Name, out var descriptor))
                yield return descriptor;
    }

    public IPropertyDescriptor GetProperty(Type type, object? container, string name, bool ignoreUnmatched, bool caseInsensitivePropertyMatching)
        => inner.GetProperty(type, container, name, ignoreUnmatched, caseInsensitivePropertyMatching);

    public string GetEnumName(Type enumType, string name) => inner.GetEnumName(enumType, name);

    public string GetEnumValue(object enumValue) => inner.GetEnumValue(enumValue);

    public bool HasParseMethod(Type type) => inner.HasParseMethod(type);

    public object? Parse(string value, Type type) => inner.Parse(value, type);
}
