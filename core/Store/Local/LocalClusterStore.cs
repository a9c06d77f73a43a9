using System.Globalization;
using FedMesh.Core.Resources;
using FedMesh.Core.Validation;
using FedMesh.Core.Yaml;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FedMesh.Core.Store.Local;

/// <summary>
/// The embedded cluster store: one human-readable YAML file per object under
/// <c>&lt;directory&gt;/&lt;plural&gt;/&lt;namespace&gt;/&lt;name&gt;.yaml</c>. Writes are atomic (temp file, fsync,
/// rename) and compare-and-swap holds across processes (a per-object lock file). resourceVersion is
/// a per-object integer, incremented on every write. Objects are validated when written.
/// Watches combine file notifications with a periodic resync.
/// </summary>
public sealed class LocalClusterStore : IClusterStore, IDisposable
{
    /// <summary>Default period of the watch resync that recovers missed file notifications.</summary>
    public static readonly TimeSpan DefaultResyncPeriod = TimeSpan.FromSeconds(5);

    /// <summary>How long a write waits for another process holding the object's lock.</summary>
    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Temp files older than this are leftovers of interrupted writes and are removed.</summary>
    internal static readonly TimeSpan StaleTempAge = TimeSpan.FromMinutes(1);

    private readonly LocalStoreLayout _layout;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _disposed = new();

    /// <param name="cluster">The cluster this store belongs to.</param>
    /// <param name="directory">The store directory; created if missing.</param>
    /// <param name="time">Clock for timestamps, lock waits and resyncs; the system clock by default.</param>
    /// <param name="resyncPeriod">Watch resync period; <see cref="DefaultResyncPeriod"/> by default.</param>
    /// <param name="logger">Receives warnings about unreadable files.</param>
    public LocalClusterStore(string cluster, string directory, TimeProvider? time = null, TimeSpan? resyncPeriod = null, ILogger? logger = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(cluster);
        ArgumentException.ThrowIfNullOrEmpty(directory);
        if (resyncPeriod is { } p && p <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(resyncPeriod), p, "The resync period must be greater than zero.");
        Cluster = cluster;
        _layout = new LocalStoreLayout(directory);
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        ResyncPeriod = resyncPeriod ?? DefaultResyncPeriod;
        Directory.CreateDirectory(_layout.Root);
        var removed = AtomicFile.DeleteStaleTempFiles(_layout.Root, _time.GetUtcNow(), StaleTempAge);
        if (removed > 0)
            LocalStoreLog.RemovedStaleTempFiles(_logger, removed, _layout.Root);
    }

    /// <inheritdoc/>
    public string Cluster { get; }

    /// <summary>The store directory (absolute).</summary>
    public string RootDirectory => _layout.Root;

    public TimeSpan ResyncPeriod { get; }

    /// <summary>How long a write waits for another writer's lock before giving up.</summary>
    public TimeSpan LockTimeout { get; init; } = DefaultLockTimeout;

    /// <summary>Test hook: with false, watches rely on the periodic resync alone (as if every notification were lost).</summary>
    internal bool FileNotificationsEnabled { get; set; } = true;

    internal LocalStoreLayout Layout => _layout;
    internal TimeProvider Time => _time;
    internal ILogger Logger => _logger;

    /// <inheritdoc/>
    public Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken = default) where T : Resource
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = _layout.ObjectPath(ResourceKinds.Of<T>(), @namespace, name);
        return Task.FromResult(ReadOrThrow<T>(path, @namespace, name));
    }

    /// <inheritdoc/>
    public Task<IReadOnlyList<T>> ListAsync<T>(string? @namespace = null, CancellationToken cancellationToken = default) where T : Resource
    {
        var kind = ResourceKinds.Of<T>();
        var result = new List<T>();
        foreach (var (ns, name, path) in EnumerateObjectFiles(kind, @namespace))
        {
            cancellationToken.ThrowIfCancellationRequested();
            switch (StoredObjectReader.TryRead<T>(path, ns, name, out var value, out _, out var problem))
            {
                case StoredObjectReader.Outcome.Found: result.Add(value!); break;
                case StoredObjectReader.Outcome.Unreadable: LocalStoreLog.SkippedUnreadableFile(_logger, path, problem); break;
            }
        }
        return Task.FromResult<IReadOnlyList<T>>(result);
    }

    /// <inheritdoc/>
    public async Task<T> CreateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource
    {
        var (kind, ns, copy) = Prepare(resource);
        var path = _layout.ObjectPath(kind, ns, copy.Name);
        using var held = await ObjectFileLock.AcquireAsync(_layout.LockPath(kind, ns, copy.Name), _time, LockTimeout, cancellationToken).ConfigureAwait(false);
        if (File.Exists(path))
            throw new StoreConflictException($"{kind.Kind} {ns}/{copy.Name} already exists in cluster {Cluster}; update it instead (fedmesh apply does).");
        copy.Metadata.ResourceVersion = Version(held.ReadLastDeletedVersion() + 1);
        copy.Metadata.CreationTimestamp = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        await AtomicFile.WriteAsync(path, ResourceCodec.Encode(copy), cancellationToken).ConfigureAwait(false);
        return copy;
    }

    /// <inheritdoc/>
    public async Task<T> UpdateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource
    {
        var (kind, ns, copy) = Prepare(resource);
        var path = _layout.ObjectPath(kind, ns, copy.Name);
        using var held = await ObjectFileLock.AcquireAsync(_layout.LockPath(kind, ns, copy.Name), _time, LockTimeout, cancellationToken).ConfigureAwait(false);
        var current = ReadOrThrow<T>(path, ns, copy.Name)
            ?? throw new StoreNotFoundException($"{kind.Kind} {ns}/{copy.Name} does not exist in cluster {Cluster}; create it first.");
        if (current.Metadata.ResourceVersion != resource.Metadata.ResourceVersion)
            throw new StoreConflictException($"{kind.Kind} {ns}/{copy.Name} in cluster {Cluster} is at resourceVersion {current.Metadata.ResourceVersion}, "
                + $"but the update was based on {resource.Metadata.ResourceVersion ?? "no version"}; read it again and reapply the change.");
        copy.Metadata.ResourceVersion = Version(StoredObjectReader.VersionOf(current) + 1);
        copy.Metadata.CreationTimestamp = current.Metadata.CreationTimestamp;
        await AtomicFile.WriteAsync(path, ResourceCodec.Encode(copy), cancellationToken).ConfigureAwait(false);
        return copy;
    }

    /// <inheritdoc/>
    public async Task<bool> DeleteAsync<T>(string @namespace, string name, string? resourceVersion = null, CancellationToken cancellationToken = default) where T : Resource
    {
        var kind = ResourceKinds.Of<T>();
        var path = _layout.ObjectPath(kind, @namespace, name);
        using var held = await ObjectFileLock.AcquireAsync(_layout.LockPath(kind, @namespace, name), _time, LockTimeout, cancellationToken).ConfigureAwait(false);
        var outcome = StoredObjectReader.TryRead<T>(path, @namespace, name, out var current, out _, out _);
        if (outcome == StoredObjectReader.Outcome.Missing)
            return false;
        if (resourceVersion is not null && current?.Metadata.ResourceVersion != resourceVersion)
            throw new StoreConflictException($"{kind.Kind} {@namespace}/{name} in cluster {Cluster} is at resourceVersion {current?.Metadata.ResourceVersion ?? "unknown (unreadable file)"}, "
                + $"not {resourceVersion}; read it again before deleting.");
        File.Delete(path);
        if (current is not null)
            held.WriteLastDeletedVersion(StoredObjectReader.VersionOf(current));
        return true;
    }

    /// <inheritdoc/>
    public IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? @namespace = null, CancellationToken cancellationToken = default) where T : Resource
        => new LocalWatch<T>(this, ResourceKinds.Of<T>(), @namespace).RunAsync(cancellationToken, _disposed.Token);

    /// <summary>Ends every watch of this store.</summary>
    public void Dispose()
    {
        if (!_disposed.IsCancellationRequested)
            _disposed.Cancel();
        _disposed.Dispose();
    }

    /// <summary>Object files of a kind, in one namespace or all, ordered by namespace then name.</summary>
    internal IEnumerable<(string Namespace, string Name, string Path)> EnumerateObjectFiles(ResourceKind kind, string? @namespace)
    {
        var kindDirectory = _layout.KindDirectory(kind);
        var directories = @namespace is not null
            ? [_layout.NamespaceDirectory(kind, @namespace)]
            : System.IO.Directory.Exists(kindDirectory) ? System.IO.Directory.GetDirectories(kindDirectory) : [];
        var files = new List<(string, string, string)>();
        foreach (var directory in directories)
        {
            if (!System.IO.Directory.Exists(directory)) continue;
            var ns = System.IO.Path.GetFileName(directory);
            foreach (var file in System.IO.Directory.EnumerateFiles(directory, "*" + LocalStoreLayout.ObjectExtension))
                if (LocalStoreLayout.IsObjectFile(file))
                    files.Add((ns, System.IO.Path.GetFileNameWithoutExtension(file), file));
        }
        files.Sort((a, b) => a.Item1 != b.Item1 ? string.CompareOrdinal(a.Item1, b.Item1) : string.CompareOrdinal(a.Item2, b.Item2));
        return files;
    }

    private T? ReadOrThrow<T>(string path, string @namespace, string name) where T : Resource
        => StoredObjectReader.TryRead<T>(path, @namespace, name, out var value, out _, out var problem) switch
        {
            StoredObjectReader.Outcome.Found => value,
            StoredObjectReader.Outcome.Missing => null,
            _ => throw new InvalidDataException($"The stored file {path} cannot be read; fix or delete it.{Environment.NewLine}{problem}"),
        };

    /// <summary>Validates, and copies the resource so the caller's object is never changed.</summary>
    private static (ResourceKind Kind, string Namespace, T Copy) Prepare<T>(T resource) where T : Resource
    {
        ArgumentNullException.ThrowIfNull(resource);
        var kind = ResourceKinds.Of(resource.GetType());
        ResourceValidator.EnsureValid(resource);
        var ns = string.IsNullOrEmpty(resource.Metadata.Namespace) ? kind.DefaultNamespace : resource.Metadata.Namespace;
        var copy = (T)ResourceCodec.Decode(ResourceCodec.Encode(resource), $"{kind.Kind} {ns}/{resource.Name}", validate: false)[0];
        copy.Metadata.Namespace = ns;
        return (kind, ns, copy);
    }

    private static string Version(long value) => value.ToString(CultureInfo.InvariantCulture);
}
