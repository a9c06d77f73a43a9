using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace FedMesh.Core.Kubernetes;

/// <summary>
/// Kubernetes manifests as JSON trees ↔ multi-document YAML (YamlDotNet's representation model).
/// Strings that YAML would read back as another type ("true", "8080", "") are quoted, so output
/// survives a round trip through kubectl unchanged.
/// </summary>
public static partial class ManifestYaml
{
    public static string Write(IEnumerable<JsonNode> documents)
    {
        var stream = new YamlStream();
        foreach (var d in documents) stream.Add(new YamlDocument(ToYaml(d)));
        var text = new StringBuilder();
        using (var writer = new StringWriter(text, CultureInfo.InvariantCulture))
            stream.Save(writer, assignAnchors: false);
        // YamlDotNet ends every document with "...": keep "---" separators only, as kubectl writes them.
        return text.ToString().Replace("\n...\n", "\n", StringComparison.Ordinal).TrimEnd('.', '\n') + "\n";
    }

    /// <summary>Every document of <paramref name="yaml"/>; empty documents are skipped. Throws <see cref="YamlException"/> with line and column.</summary>
    public static List<JsonNode> Read(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return stream.Documents.Where(d => d.RootNode is not YamlScalarNode { Value: null or "" }).Select(d => ToJson(d.RootNode)!).Where(n => n is not null).ToList();
    }

    private static YamlNode ToYaml(JsonNode? node) => node switch
    {
        JsonObject o => new YamlMappingNode(o.Select(kv => new KeyValuePair<YamlNode, YamlNode>(new YamlScalarNode(kv.Key), ToYaml(kv.Value)))),
        JsonArray a => new YamlSequenceNode(a.Select(ToYaml)),
        null => new YamlScalarNode("null") { Style = ScalarStyle.Plain },
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Scalar(v.GetValue<string>()),
        JsonValue v => new YamlScalarNode(v.GetValueKind() switch
        {
            JsonValueKind.True => "true",
            JsonValueKind.False => "false",
            _ => v.ToJsonString(),
        }) { Style = ScalarStyle.Plain },
        _ => throw new ArgumentException($"unexpected JSON node {node.GetType().Name}"),
    };

    private static YamlScalarNode Scalar(string s)
    {
        if (s.Contains('\n')) return new YamlScalarNode(s) { Style = ScalarStyle.Literal };
        var plainIsString = s.Length > 0 && !NotString().IsMatch(s) && SafePlain().IsMatch(s);
        return new YamlScalarNode(s) { Style = plainIsString ? ScalarStyle.Plain : ScalarStyle.DoubleQuoted };
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode m => new JsonObject(m.Children.Select(kv => new KeyValuePair<string, JsonNode?>(((YamlScalarNode)kv.Key).Value ?? "", ToJson(kv.Value)))),
        YamlSequenceNode s => new JsonArray(s.Children.Select(ToJson).ToArray()),
        YamlScalarNode { Style: ScalarStyle.Plain } p => PlainValue(p.Value ?? ""),
        YamlScalarNode q => JsonValue.Create(q.Value ?? ""),
        _ => throw new YamlException(node.Start, node.End, $"unsupported YAML node at line {node.Start.Line}, column {node.Start.Column}"),
    };

    private static JsonNode? PlainValue(string v)
    {
        if (v is "" or "~" or "null" or "Null" or "NULL") return null;
        if (v is "true" or "True" or "TRUE") return JsonValue.Create(true);
        if (v is "false" or "False" or "FALSE") return JsonValue.Create(false);
        if (long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l)) return JsonValue.Create(l);
        if (Float().IsMatch(v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d)) return JsonValue.Create(d);
        return JsonValue.Create(v);
    }

    [GeneratedRegex(@"^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|no|on|off|y|n|Yes|No|On|Off|[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))$")]
    private static partial Regex NotString();

    [GeneratedRegex(@"^[A-Za-z0-9/_.$(][^#]*$")]
    private static partial Regex SafePlain();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex Float();
}
