using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FedMesh.Core.Resources;
using FedMesh.Core.Yaml;

namespace FedMesh.Core.Store.Local;

/// <summary>
/// One list-then-watch over a kind directory. File notifications (inotify) name the files to look
/// at again; a periodic resync, and any notification overflow, rescans everything. Both compare
/// against the last content seen per object, so only real differences become events.
/// </summary>
internal sealed class LocalWatch<T>(LocalClusterStore store, ResourceKind kind, string? @namespace) where T : Resource
{
    private static readonly string FullRescan = "";

    private readonly Channel<string> _signals = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Dictionary<(string Namespace, string Name), (string Text, T Object)> _seen = new();
    private readonly Dictionary<(string Namespace, string Name), string> _unreadable = new();

    public async IAsyncEnumerable<WatchEvent<T>> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken, CancellationToken storeDisposed)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, storeDisposed);
        var token = linked.Token;
        var root = @namespace is null ? store.Layout.KindDirectory(kind) : store.Layout.NamespaceDirectory(kind, @namespace);
        Directory.CreateDirectory(root);
        // Notifications start before the first listing, so nothing written in between is missed.
        using var watcher = store.FileNotificationsEnabled ? StartWatcher(root) : null;
        await using var timer = store.Time.CreateTimer(_ => _signals.Writer.TryWrite(FullRescan), null, store.ResyncPeriod, store.ResyncPeriod);

        foreach (var change in Rescan())
            yield return change;
        yield return new WatchEvent<T>(WatchEventType.Synced, null);

        while (await NextBatchAsync(token).ConfigureAwait(false) is { } batch)
            foreach (var change in batch)
                yield return change;
    }

    /// <summary>Waits for signals, coalesces what is pending, and returns the resulting events; null once cancelled.</summary>
    private async Task<List<WatchEvent<T>>?> NextBatchAsync(CancellationToken token)
    {
        while (true)
        {
            try
            {
                if (!await _signals.Reader.WaitToReadAsync(token).ConfigureAwait(false))
                    return null;
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            var full = false;
            var paths = new HashSet<string>(StringComparer.Ordinal);
            while (_signals.Reader.TryRead(out var signal))
            {
                if (ReferenceEquals(signal, FullRescan) || signal.Length == 0) full = true;
                else paths.Add(signal);
            }
            var events = full ? Rescan() : Recheck(paths);
            if (events.Count > 0)
                return events;
        }
    }

    private FileSystemWatcher StartWatcher(string root)
    {
        var watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = @namespace is null,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
            InternalBufferSize = 64 * 1024,
        };
        FileSystemEventHandler changed = (_, e) => Signal(e.FullPath);
        watcher.Created += changed;
        watcher.Changed += changed;
        watcher.Deleted += changed;
        watcher.Renamed += (_, e) => { Signal(e.OldFullPath); Signal(e.FullPath); };
        watcher.Error += (_, e) =>
        {
            LocalStoreLog.FileWatcherFailed(store.Logger, root, e.GetException().Message);
            _signals.Writer.TryWrite(FullRescan);
        };
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    private void Signal(string path)
    {
        if (LocalStoreLayout.IsObjectFile(path))
            _signals.Writer.TryWrite(path);
        else if (!Path.GetFileName(path).StartsWith('.') && Directory.Exists(path))
            _signals.Writer.TryWrite(FullRescan);   // a new namespace folder: its files may predate the folder's watch
    }

    /// <summary>Compares every file on disk with what was seen.</summary>
    private List<WatchEvent<T>> Rescan()
    {
        var events = new List<WatchEvent<T>>();
        var present = new HashSet<(string, string)>();
        foreach (var (ns, name, path) in store.EnumerateObjectFiles(kind, @namespace))
        {
            present.Add((ns, name));
            Compare(ns, name, path, events);
        }
        foreach (var key in _seen.Keys.Where(k => !present.Contains(k)).ToList())
            Compare(key.Namespace, key.Name, store.Layout.ObjectPath(kind, key.Namespace, key.Name), events);
        AtomicFile.DeleteStaleTempFiles(store.Layout.KindDirectory(kind), store.Time.GetUtcNow(), LocalClusterStore.StaleTempAge);
        return events;
    }

    private List<WatchEvent<T>> Recheck(HashSet<string> paths)
    {
        var events = new List<WatchEvent<T>>();
        var kindDirectory = store.Layout.KindDirectory(kind);
        foreach (var path in paths)
            if (LocalStoreLayout.KeyOf(kindDirectory, path) is { } key && (@namespace is null || key.Namespace == @namespace))
                Compare(key.Namespace, key.Name, path, events);
        return events;
    }

    private void Compare(string ns, string name, string path, List<WatchEvent<T>> events)
    {
        var key = (ns, name);
        var had = _seen.TryGetValue(key, out var before);
        var outcome = StoredObjectReader.TryRead<T>(path, ns, name, out var value, out var text, out var problem, had ? before.Text : null);
        if (outcome == StoredObjectReader.Outcome.Unchanged)
        {
            _unreadable.Remove(key); // back to what was last seen
            return;
        }
        if (outcome == StoredObjectReader.Outcome.Unreadable)
        {
            // Keep the last good state (a half-edited file must not look like a deletion) and warn
            // once per broken content, not on every resync.
            if (!_unreadable.TryGetValue(key, out var warned) || warned != text)
                LocalStoreLog.SkippedUnreadableFile(store.Logger, path, problem);
            _unreadable[key] = text;
            return;
        }
        _unreadable.Remove(key);
        if (outcome == StoredObjectReader.Outcome.Missing)
        {
            if (!had) return;
            _seen.Remove(key);
            events.Add(new WatchEvent<T>(WatchEventType.Deleted, Copy(before.Object)));
            return;
        }
        if (had && before.Text == text)
            return;
        _seen[key] = (text, value!);
        events.Add(new WatchEvent<T>(had ? WatchEventType.Modified : WatchEventType.Added, Copy(value!)));
    }

    /// <summary>Consumers may change what they get; the cache keeps its own copy.</summary>
    private static T Copy(T value) => (T)ResourceCodec.Decode(ResourceCodec.Encode(value), typeof(T).Name, validate: false)[0];
}
