using YamlDotNet.Core;

namespace FedMesh.Core.Yaml;

/// <summary>A YAML node with the position it starts at; aliases are resolved to the anchored node.</summary>
internal abstract class YamlTreeNode(Mark start)
{
    public Mark Start { get; } = start;

    public abstract string Describe();
}

internal sealed class YamlTreeScalar(Mark start, string value, ScalarStyle style, string? tag) : YamlTreeNode(start)
{
    public string Value { get; } = value;
    public ScalarStyle Style { get; } = style;
    public string? Tag { get; } = tag;

    /// <summary>Plain and written as YAML null ("", "~", "null"), or tagged !!null.</summary>
    public bool IsNull => Tag == "tag:yaml.org,2002:null"
        || (Style == ScalarStyle.Plain && Tag is null && Value is "" or "~" or "null" or "Null" or "NULL");

    public bool IsQuoted => Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded;

    public override string Describe() => IsNull ? "null" : IsQuoted ? $"the string \"{Value}\"" : $"\"{Value}\"";
}

internal sealed class YamlTreeMapping(Mark start) : YamlTreeNode(start)
{
    public List<KeyValuePair<YamlTreeNode, YamlTreeNode>> Entries { get; } = new();

    /// <summary>The value under a scalar key, or null.</summary>
    public YamlTreeNode? Find(string key, out YamlTreeNode? keyNode)
    {
        foreach (var (k, v) in Entries)
            if (k is YamlTreeScalar s && s.Value == key) { keyNode = k; return v; }
        keyNode = null;
        return null;
    }

    public override string Describe() => "a mapping";
}

internal sealed class YamlTreeSequence(Mark start) : YamlTreeNode(start)
{
    public List<YamlTreeNode> Items { get; } = new();

    public override string Describe() => "a list";
}

/// <summary>One document of a stream: its root (null when empty) and its index in the file.</summary>
internal sealed record YamlTreeDocument(int Index, Mark Start, YamlTreeNode? Root);
