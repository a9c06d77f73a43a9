using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace FedMesh.Core.Yaml;

/// <summary>
/// Reads a YAML stream into <see cref="YamlTreeDocument"/>s with real positions. Unlike YamlDotNet's
/// representation model it keeps duplicate keys (the schema check reports them with both positions)
/// and it keeps the documents read before a syntax error, so their problems are reported as well.
/// </summary>
internal static class YamlTreeReader
{
    public static List<YamlTreeDocument> Read(string text, out YamlException? syntaxError)
    {
        var documents = new List<YamlTreeDocument>();
        syntaxError = null;
        var parser = new Parser(new StringReader(text));
        try
        {
            parser.Consume<StreamStart>();
            while (parser.TryConsume<DocumentStart>(out var start))
            {
                var anchors = new Dictionary<string, YamlTreeNode>(StringComparer.Ordinal);
                YamlTreeNode? root = parser.Accept<DocumentEnd>(out _) ? null : ReadNode(parser, anchors);
                parser.Consume<DocumentEnd>();
                documents.Add(new YamlTreeDocument(documents.Count, start.Start, root));
            }
            parser.Consume<StreamEnd>();
        }
        catch (YamlException e)
        {
            syntaxError = e;
        }
        return documents;
    }

    private static YamlTreeNode ReadNode(IParser parser, Dictionary<string, YamlTreeNode> anchors)
    {
        if (parser.TryConsume<AnchorAlias>(out var alias))
            return anchors.TryGetValue(alias.Value.Value, out var target)
                ? target
                : throw new YamlException(alias.Start, alias.End, $"alias *{alias.Value} refers to no anchor; define &{alias.Value} before using it");

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            var tag = scalar.Tag.IsEmpty || scalar.Tag.Value == "!" ? null : scalar.Tag.Value;
            return Remember(anchors, scalar.Anchor, new YamlTreeScalar(scalar.Start, scalar.Value, scalar.Style, tag));
        }

        if (parser.TryConsume<SequenceStart>(out var sequenceStart))
        {
            var sequence = Remember(anchors, sequenceStart.Anchor, new YamlTreeSequence(sequenceStart.Start));
            while (!parser.TryConsume<SequenceEnd>(out _))
                sequence.Items.Add(ReadNode(parser, anchors));
            return sequence;
        }

        var mappingStart = parser.Consume<MappingStart>();
        var mapping = Remember(anchors, mappingStart.Anchor, new YamlTreeMapping(mappingStart.Start));
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = ReadNode(parser, anchors);
            var value = ReadNode(parser, anchors);
            mapping.Entries.Add(new(key, value));
        }
        return mapping;
    }

    private static TNode Remember<TNode>(Dictionary<string, YamlTreeNode> anchors, AnchorName anchor, TNode node) where TNode : YamlTreeNode
    {
        if (!anchor.IsEmpty)
            anchors[anchor.Value] = node;
        return node;
    }
}
