using System.Text;

namespace FedMesh.Core.Store.Local;

/// <summary>Whole-file replacement that readers never see half done, and that survives a crash as old or new.</summary>
internal static class AtomicFile
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Writes a temp file in the same folder, flushes it to disk, then renames it over <paramref name="path"/>.</summary>
    public static async Task WriteAsync(string path, string content, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = LocalStoreLayout.TempPathFor(path);
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous))
            {
                await stream.WriteAsync(Utf8.GetBytes(content), cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Removes temp files older than <paramref name="age"/> that a crashed writer left behind.</summary>
    public static int DeleteStaleTempFiles(string directory, DateTimeOffset now, TimeSpan age)
    {
        if (!Directory.Exists(directory)) return 0;
        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "*" + LocalStoreLayout.TempExtension, SearchOption.AllDirectories))
        {
            try
            {
                if (now - File.GetLastWriteTimeUtc(file) >= age && TryDelete(file))
                    deleted++;
            }
            catch (IOException) { }
        }
        return deleted;
    }

    private static bool TryDelete(string path)
    {
        try { File.Delete(path); return true; }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }
}
