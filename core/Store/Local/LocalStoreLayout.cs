using FedMesh.Core.Resources;
using FedMesh.Core.Validation;

namespace FedMesh.Core.Store.Local;

/// <summary>
/// Where the local store keeps things: <c>&lt;dir&gt;/&lt;plural&gt;/&lt;namespace&gt;/&lt;name&gt;.yaml</c> for objects,
/// <c>&lt;dir&gt;/.locks/&lt;plural&gt;/&lt;namespace&gt;/&lt;name&gt;.lock</c> for their cross-process locks.
/// Temp files are hidden (".name.yaml.&lt;id&gt;.tmp") next to the object they replace.
/// </summary>
internal sealed class LocalStoreLayout(string root)
{
    public const string ObjectExtension = ".yaml";
    public const string TempExtension = ".tmp";

    public string Root { get; } = Path.GetFullPath(root);

    public string KindDirectory(ResourceKind kind) => Path.Combine(Root, kind.Plural);

    public string NamespaceDirectory(ResourceKind kind, string @namespace) => Path.Combine(KindDirectory(kind), CheckName(@namespace, "namespace"));

    public string ObjectPath(ResourceKind kind, string @namespace, string name)
        => Path.Combine(NamespaceDirectory(kind, @namespace), CheckName(name, "name") + ObjectExtension);

    public string LockPath(ResourceKind kind, string @namespace, string name)
        => Path.Combine(Root, ".locks", kind.Plural, CheckName(@namespace, "namespace"), CheckName(name, "name") + ".lock");

    public static string TempPathFor(string objectPath)
        => Path.Combine(Path.GetDirectoryName(objectPath)!, $".{Path.GetFileName(objectPath)}.{Guid.NewGuid():N}{TempExtension}");

    /// <summary>An object file (not a temp or hidden file).</summary>
    public static bool IsObjectFile(string path)
    {
        var file = Path.GetFileName(path);
        return file.EndsWith(ObjectExtension, StringComparison.Ordinal) && !file.StartsWith('.');
    }

    /// <summary>"namespace/name" of an object file under a kind directory, or null if the path is not one.</summary>
    public static (string Namespace, string Name)? KeyOf(string kindDirectory, string path)
    {
        if (!IsObjectFile(path)) return null;
        var relative = Path.GetRelativePath(kindDirectory, path).Split(Path.DirectorySeparatorChar);
        return relative.Length == 2 ? (relative[0], Path.GetFileNameWithoutExtension(relative[1])) : null;
    }

    /// <summary>Names become paths, so only DNS labels are accepted: nothing can escape the store directory.</summary>
    private static string CheckName(string value, string what)
        => FieldChecks.IsDnsLabel(value ?? "", out var why) && !string.IsNullOrEmpty(value)
            ? value
            : throw new ArgumentException($"Invalid {what} \"{value}\": {(string.IsNullOrEmpty(value) ? "it is empty" : why)}; use lower-case letters, digits and '-'.", what);
}
