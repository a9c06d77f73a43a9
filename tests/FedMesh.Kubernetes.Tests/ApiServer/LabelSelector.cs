using System.Text.Json.Nodes;

namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>Equality-based label selectors: <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, comma-separated.</summary>
internal sealed class LabelSelector
{
    private readonly List<(string Key, string Value, bool Equal)> _terms = new();

    public static LabelSelector Parse(string? text)
    {
        var selector = new LabelSelector();
        if (string.IsNullOrWhiteSpace(text)) return selector;
        foreach (var term in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ne = term.IndexOf("!=", StringComparison.Ordinal);
            if (ne > 0) { selector._terms.Add((term[..ne], term[(ne + 2)..], false)); continue; }
            var eq = term.IndexOf('=');
            if (eq <= 0) throw new ApiError(400, "BadRequest", $"unable to parse requirement: \"{term}\" (only equality-based selectors are served)");
            var value = term[(eq + 1)..].TrimStart('=');
            selector._terms.Add((term[..eq], value, true));
        }
        return selector;
    }

    public bool Matches(JsonObject obj)
    {
        var labels = obj["metadata"]?["labels"] as JsonObject;
        foreach (var (key, value, equal) in _terms)
        {
            var actual = labels?[key]?.GetValue<string>();
            if ((actual == value) != equal) return false;
        }
        return true;
    }
}
