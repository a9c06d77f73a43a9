using FedMesh.Core.Resources;
using YamlDotNet.Core;

namespace FedMesh.Core.Yaml;

/// <summary>Finds the kind of one document from its <c>kind</c> and <c>apiVersion</c> fields.</summary>
internal static class DocumentKinds
{
    public static ResourceKind? Resolve(YamlTreeDocument document, List<(Mark, string)> problems)
    {
        var known = string.Join(", ", ResourceKinds.All.Select(k => k.Kind));
        if (document.Root is not YamlTreeMapping root)
        {
            problems.Add((document.Root?.Start ?? document.Start, $"a resource must be a mapping with apiVersion, kind, metadata and spec, got {document.Root?.Describe()}"));
            return null;
        }
        var kindNode = root.Find("kind", out _);
        if (kindNode is not YamlTreeScalar { IsNull: false } kindScalar)
        {
            problems.Add((kindNode?.Start ?? root.Start, $"kind: is required; use one of {known}"));
            return null;
        }
        var kind = ResourceKinds.All.FirstOrDefault(k => k.Kind == kindScalar.Value);
        if (kind is null)
        {
            var close = ResourceKinds.Find(kindScalar.Value);
            problems.Add((kindScalar.Start, close is not null
                ? $"kind: unknown kind \"{kindScalar.Value}\"; did you mean \"{close.Kind}\"?"
                : $"kind: unknown kind \"{kindScalar.Value}\"; use one of {known}"));
            return null;
        }
        var apiNode = root.Find("apiVersion", out _);
        if (apiNode is not YamlTreeScalar { IsNull: false } apiScalar)
        {
            problems.Add((apiNode?.Start ?? root.Start, $"apiVersion: is required; kind {kind.Kind} uses apiVersion \"{kind.ApiVersion}\""));
            return null;
        }
        if (apiScalar.Value != kind.ApiVersion)
        {
            problems.Add((apiScalar.Start, $"apiVersion: kind {kind.Kind} uses apiVersion \"{kind.ApiVersion}\", not \"{apiScalar.Value}\""));
            return null;
        }
        return kind;
    }
}
