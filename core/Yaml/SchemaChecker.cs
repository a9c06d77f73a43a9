using System.Globalization;
using YamlDotNet.Core;

namespace FedMesh.Core.Yaml;

/// <summary>
/// Checks one document's tree against the CLR type it will become, before YamlDotNet maps it:
/// unknown fields, duplicate keys, nulls where a value is needed and wrong scalar types, every one
/// of them in one pass. Records where each field path starts, so later rule violations can be
/// reported at their line and column.
/// </summary>
internal sealed class SchemaChecker
{
    private const int MaxDepth = 64;

    public Dictionary<string, Mark> Positions { get; } = new(StringComparer.Ordinal);

    public List<(Mark Mark, string Message)> Problems { get; } = new();

    public void Check(YamlTreeNode node, Type type, string path, bool allowNull, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            Problems.Add((node.Start, Prefix(path) + $"nested more than {MaxDepth} levels deep; is an alias referring to itself?"));
            return;
        }
        if (node is YamlTreeScalar { IsNull: true })
        {
            if (!allowNull)
                Problems.Add((node.Start, Prefix(path) + $"must not be null; give {ScalarChecks.Describe(type)} or remove the field"));
            return;
        }
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (ScalarChecks.IsScalarType(type))
        {
            if (node is not YamlTreeScalar scalar)
                Problems.Add((node.Start, Prefix(path) + $"expected {ScalarChecks.Describe(type)}, got {node.Describe()}"));
            else if (ScalarChecks.Check(scalar, type) is { } problem)
                Problems.Add((node.Start, Prefix(path) + problem));
            return;
        }
        if (ScalarChecks.ListElement(type) is { } element)
        {
            if (node is not YamlTreeSequence sequence) { Mismatch(node, path, "a list"); return; }
            for (var i = 0; i < sequence.Items.Count; i++)
            {
                var itemPath = $"{path}[{i}]";
                Positions.TryAdd(itemPath, sequence.Items[i].Start);
                Check(sequence.Items[i], element, itemPath, allowNull: false, depth + 1);
            }
            return;
        }
        if (node is not YamlTreeMapping mapping) { Mismatch(node, path, "a mapping"); return; }
        if (ScalarChecks.DictionaryValue(type) is { } valueType)
            CheckDictionary(mapping, valueType, path, depth);
        else
            CheckObject(mapping, type, path, depth);
    }

    private void CheckDictionary(YamlTreeMapping mapping, Type valueType, string path, int depth)
    {
        var seen = new Dictionary<string, Mark>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Entries)
        {
            if (!TryKey(keyNode, path, seen, out var key)) continue;
            var childPath = Join(path, key);
            Positions.TryAdd(childPath, keyNode.Start);
            Check(value, valueType, childPath, allowNull: false, depth + 1);
        }
    }

    private void CheckObject(YamlTreeMapping mapping, Type type, string path, int depth)
    {
        var members = YamlMembers.Of(type);
        var seen = new Dictionary<string, Mark>(StringComparer.Ordinal);
        foreach (var (keyNode, value) in mapping.Entries)
        {
            if (!TryKey(keyNode, path, seen, out var key)) continue;
            var childPath = Join(path, key);
            var member = members.FirstOrDefault(m => m.Name == key);
            if (member is null)
            {
                Problems.Add((keyNode.Start, $"{childPath}: unknown field \"{key}\"{FieldHints.Suggest(key, members)}"));
                continue;
            }
            Positions.TryAdd(childPath, keyNode.Start);
            Check(value, member.Property.PropertyType, childPath, member.Nullable, depth + 1);
        }
    }

    private bool TryKey(YamlTreeNode keyNode, string path, Dictionary<string, Mark> seen, out string key)
    {
        key = "";
        if (keyNode is not YamlTreeScalar { IsNull: false } scalar)
        {
            Problems.Add((keyNode.Start, Prefix(path) + $"a key must be a plain name, got {keyNode.Describe()}"));
            return false;
        }
        key = scalar.Value;
        if (seen.TryGetValue(key, out var first))
        {
            Problems.Add((keyNode.Start, $"{Join(path, key)}: duplicate key \"{key}\" (first at line {first.Line}, column {first.Column}); keep only one"));
            return false;
        }
        seen[key] = keyNode.Start;
        return true;
    }

    private void Mismatch(YamlTreeNode node, string path, string expected)
        => Problems.Add((node.Start, Prefix(path) + $"expected {expected}, got {node.Describe()}"));

    private static string Prefix(string path) => path.Length == 0 ? "" : path + ": ";

    public static string Join(string parent, string field) => parent.Length == 0 ? field : parent + "." + field;
}
