using System.Text.RegularExpressions;
using FedMesh.Core.Validation;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace FedMesh.Core.Yaml;

/// <summary>
/// Decodes every document of one YAML text in one pass, collecting all problems: syntax, schema
/// (unknown fields, duplicate keys, wrong types), kind resolution and validation rules.
/// </summary>
internal sealed partial class DocumentDecoder(string text, string fileName)
{
    private readonly List<(Mark Mark, string Message)> _problems = new();

    /// <param name="typeOf">The CLR type of a non-empty document, or null after adding a problem.</param>
    /// <param name="validate">Rules checked on each decoded object; their paths are mapped back to positions.</param>
    public List<object> Decode(Func<YamlTreeDocument, List<(Mark, string)>, Type?> typeOf, Func<object, IReadOnlyList<ValidationError>>? validate)
    {
        var documents = YamlTreeReader.Read(text, out var syntaxError);
        var plan = new Dictionary<int, (Type Type, SchemaChecker Checker)>();
        foreach (var document in documents)
        {
            if (document.Root is null || document.Root is YamlTreeScalar { IsNull: true })
                continue;   // an empty document ("---" alone, or only comments)
            var type = typeOf(document, _problems);
            if (type is null)
                continue;
            var checker = new SchemaChecker();
            checker.Positions[""] = document.Root.Start;
            checker.Check(document.Root, type, "", allowNull: false);
            if (checker.Problems.Count > 0)
                _problems.AddRange(checker.Problems);
            else
                plan[document.Index] = (type, checker);
        }

        var results = new List<object>();
        if (plan.Count > 0)
            Materialize(documents.Count, plan, validate, results);
        if (syntaxError is not null)
            _problems.Add((syntaxError.Start, "invalid YAML: " + Clean(syntaxError)));
        if (_problems.Count > 0)
            throw new ResourceDecodeException(_problems
                .Select((p, i) => (p, i))
                .OrderBy(x => x.p.Mark.Line).ThenBy(x => x.p.Mark.Column).ThenBy(x => x.i)
                .Select(x => new ResourceDecodeError(fileName, (int)x.p.Mark.Line, (int)x.p.Mark.Column, x.p.Message))
                .ToList());
        return results;
    }

    /// <summary>Lets YamlDotNet build the checked documents from a parser over the text, so its marks are file positions.</summary>
    private void Materialize(int count, Dictionary<int, (Type Type, SchemaChecker Checker)> plan, Func<object, IReadOnlyList<ValidationError>>? validate, List<object> results)
    {
        var parser = new Parser(new StringReader(text));
        parser.Consume<StreamStart>();
        for (var i = 0; i < count; i++)
        {
            if (!plan.TryGetValue(i, out var entry))
            {
                parser.Consume<DocumentStart>();
                if (!parser.Accept<DocumentEnd>(out _))
                    parser.SkipThisAndNestedEvents();
                parser.Consume<DocumentEnd>();
                continue;
            }
            object? value;
            try
            {
                value = YamlSettings.Deserializer.Deserialize(parser, entry.Type);
            }
            catch (YamlException e)
            {
                // The schema check should have caught this; the parser is now mid-document, so stop here.
                _problems.Add((e.Start, Clean(e)));
                return;
            }
            if (value is null)
                continue;
            if (validate is not null)
                foreach (var error in validate(value))
                    _problems.Add((PositionOf(entry.Checker.Positions, error.Path), error.ToString()));
            results.Add(value);
        }
    }

    /// <summary>The position of a field, or of its nearest parent that is written (for a missing field).</summary>
    private static Mark PositionOf(Dictionary<string, Mark> positions, string path)
    {
        for (var p = path; ; p = Parent(p))
        {
            if (positions.TryGetValue(p, out var mark))
                return mark;
            if (p.Length == 0)
                return Mark.Empty;
        }
    }

    private static string Parent(string path)
    {
        var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
        return cut <= 0 ? "" : path[..cut];
    }

    private static string Clean(Exception e)
    {
        while (e.InnerException is not null)
            e = e.InnerException;
        return MarkPrefix().Replace(e.Message, "");
    }

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();
}
