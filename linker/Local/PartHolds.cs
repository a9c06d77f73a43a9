namespace FedMesh.Linker.Local;

/// <summary>
/// Parts an operator (or a test) stopped on purpose: one empty file per part in <c>run/held/</c>. The supervisor
/// neither restarts a held part nor counts its exit as a crash; removing the file lets it start again at once.
/// Files, not messages, so holds survive a supervisor restart and need no connection to it.
/// </summary>
internal static class PartHolds
{
    public static string Directory(string runDirectory) => Path.Combine(runDirectory, "held");

    public static string FileOf(string runDirectory, string part) => Path.Combine(Directory(runDirectory), part.Replace('/', '_'));

    public static bool IsHeld(string runDirectory, string part) => File.Exists(FileOf(runDirectory, part));

    public static void Hold(string runDirectory, string part)
    {
        System.IO.Directory.CreateDirectory(Directory(runDirectory));
        File.WriteAllText(FileOf(runDirectory, part), "");
    }

    /// <summary>True if the part was held.</summary>
    public static bool Release(string runDirectory, string part)
    {
        var file = FileOf(runDirectory, part);
        if (!File.Exists(file))
            return false;
        File.Delete(file);
        return true;
    }
}
