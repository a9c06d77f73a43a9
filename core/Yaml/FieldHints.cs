namespace FedMesh.Core.Yaml;

/// <summary>"did you mean" hints for unknown fields.</summary>
internal static class FieldHints
{
    public static string Suggest(string key, IReadOnlyList<YamlMember> members)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var m in members)
        {
            var d = string.Equals(m.Name, key, StringComparison.OrdinalIgnoreCase) ? 0 : Distance(m.Name.ToLowerInvariant(), key.ToLowerInvariant());
            if (d < bestDistance) { best = m.Name; bestDistance = d; }
        }
        var known = string.Join(", ", members.Select(m => m.Name));
        return best is not null && bestDistance <= Math.Max(2, key.Length / 3)
            ? $"; did you mean \"{best}\"? (known fields: {known})"
            : $"; known fields: {known}";
    }

    /// <summary>Levenshtein distance between two short names.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
