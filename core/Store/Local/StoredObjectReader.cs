using FedMesh.Core.Resources;
using FedMesh.Core.Yaml;

namespace FedMesh.Core.Store.Local;

/// <summary>Reads one object file and checks it is the object its path says it is.</summary>
internal static class StoredObjectReader
{
    public enum Outcome { Found, Missing, Unreadable, Unchanged }

    /// <summary>
    /// Reads and decodes <paramref name="path"/>; <paramref name="problem"/> says why it is unreadable. With
    /// <paramref name="known"/> (the text last decoded), a file that still holds exactly that is
    /// <see cref="Outcome.Unchanged"/> and not decoded again (a watch's resync reads every file every few seconds).
    /// </summary>
    public static Outcome TryRead<T>(string path, string @namespace, string name, out T? value, out string text, out string problem,
        string? known = null) where T : Resource
    {
        value = null;
        text = "";
        problem = "";
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Outcome.Missing;
        }
        if (known is not null && string.Equals(text, known, StringComparison.Ordinal))
            return Outcome.Unchanged;
        try
        {
            // Only the schema is checked on read: the rules are enforced when objects are written,
            // and a newer rule must not hide objects stored before it existed.
            var decoded = ResourceCodec.Decode(text, path, validate: false);
            if (decoded.Count != 1 || decoded[0] is not T typed)
            {
                problem = $"expected exactly one {ResourceKinds.Of<T>().Kind}, found {decoded.Count} object(s) of kind {string.Join(", ", decoded.Select(d => d.Kind))}";
                return Outcome.Unreadable;
            }
            if (typed.Metadata.Name != name || (typed.Metadata.Namespace ?? @namespace) != @namespace)
            {
                problem = $"the file holds {typed.Namespace}/{typed.Name} but its path says {@namespace}/{name}; rename the file or fix metadata";
                return Outcome.Unreadable;
            }
            typed.Metadata.Namespace = @namespace;
            value = typed;
            return Outcome.Found;
        }
        catch (ResourceDecodeException e)
        {
            problem = e.Message;
            return Outcome.Unreadable;
        }
    }

    public static long VersionOf(Resource resource)
        => long.TryParse(resource.Metadata.ResourceVersion, out var v) ? v : 0;
}
