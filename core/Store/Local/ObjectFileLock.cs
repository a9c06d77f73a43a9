namespace FedMesh.Core.Store.Local;

/// <summary>
/// An exclusive lock on one object, held across processes: a lock file opened with
/// <see cref="FileShare.None"/> (flock on Unix, a share lock on Windows). The kernel releases it when
/// the holder exits, even on a crash. Lock files are never deleted: unlinking one while another
/// process waits on it would let two writers in at once. The file also remembers the last
/// resourceVersion of a deleted object, so a re-created object never reuses an old version.
/// </summary>
internal sealed class ObjectFileLock : IDisposable
{
    private readonly FileStream _stream;

    private ObjectFileLock(FileStream stream) => _stream = stream;

    public static async Task<ObjectFileLock> AcquireAsync(string path, TimeProvider time, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var delay = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                return new ObjectFileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.None));
            }
            catch (IOException e) when (e is not (FileNotFoundException or PathTooLongException))
            {
                if (time.GetElapsedTime(started) >= timeout)
                    throw new TimeoutException($"Could not lock {path} within {timeout.TotalSeconds:0.#} s: another process keeps it locked. "
                        + "A lock is released when its process exits; find the fedmesh process that hangs (controller, proxy or CLI) and stop it.", e);
            }
            await Task.Delay(delay + TimeSpan.FromMilliseconds(Random.Shared.Next(0, 3)), time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromMilliseconds(20).Ticks));
        }
    }

    /// <summary>The last version of the object before it was deleted, or 0.</summary>
    public long ReadLastDeletedVersion()
    {
        _stream.Position = 0;
        var text = new StreamReader(_stream, leaveOpen: true).ReadToEnd().Trim();
        return long.TryParse(text, out var v) ? v : 0;
    }

    public void WriteLastDeletedVersion(long version)
    {
        _stream.SetLength(0);
        using (var writer = new StreamWriter(_stream, leaveOpen: true))
            writer.Write(version.ToString(System.Globalization.CultureInfo.InvariantCulture));
        _stream.Flush(flushToDisk: true);
    }

    public void Dispose() => _stream.Dispose();
}
