using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Threading.Channels;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Tests.Support;

/// <summary>
/// Test scaffolding: an IClusterStore in memory with the contract's semantics (copies, CAS, list-then-watch)
/// and a switch to make it unreachable. Counts writes so tests can prove idempotence, and reads so they can prove
/// that nothing polls.
/// </summary>
internal sealed class InMemoryClusterStore(string cluster) : IClusterStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<(string Kind, string Namespace, string Name), Resource> _objects = new();
    private readonly List<(Type Type, string? Namespace, Channel<object> Channel)> _watchers = [];
    private long _version;
    private int _writes;
    private int _reads;

    public string Cluster { get; } = cluster;

    /// <summary>Create, update and delete calls that changed something.</summary>
    public int Writes => Volatile.Read(ref _writes);

    /// <summary>Get and list calls (a watch's initial list not included).</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>When set, every call fails with an IOException and running watches break.</summary>
    public bool Unreachable
    {
        get;
        set
        {
            field = value;
            if (value)
                lock (_gate)
                    foreach (var w in _watchers)
                        w.Channel.Writer.TryComplete(new IOException($"store of {Cluster} is unreachable"));
        }
    }

    public Task<T?> GetAsync<T>(string @namespace, string name, CancellationToken cancellationToken = default) where T : Resource
    {
        Check();
        Interlocked.Increment(ref _reads);
        lock (_gate)
            return Task.FromResult(_objects.TryGetValue(Key<T>(@namespace, name), out var r) ? Clone((T)r) : null);
    }

    public Task<IReadOnlyList<T>> ListAsync<T>(string? @namespace = null, CancellationToken cancellationToken = default) where T : Resource
    {
        Check();
        Interlocked.Increment(ref _reads);
        lock (_gate)
            return Task.FromResult<IReadOnlyList<T>>(_objects.Where(kv => kv.Key.Kind == typeof(T).Name && (@namespace is null || kv.Key.Namespace == @namespace)).Select(kv => Clone((T)kv.Value)).ToList());
    }

    public Task<T> CreateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource
    {
        Check();
        lock (_gate)
        {
            var key = Key<T>(resource.Namespace, resource.Name);
            if (_objects.ContainsKey(key))
                throw new StoreConflictException($"{resource} exists");
            var stored = Clone(resource);
            stored.Metadata.Namespace = resource.Namespace;
            stored.Metadata.ResourceVersion = (++_version).ToString();
            stored.Metadata.CreationTimestamp ??= "2025-01-01T00:00:00Z";
            _objects[key] = stored;
            Notify(WatchEventType.Added, stored);
            return Task.FromResult(Clone(stored));
        }
    }

    public Task<T> UpdateAsync<T>(T resource, CancellationToken cancellationToken = default) where T : Resource
    {
        Check();
        lock (_gate)
        {
            var key = Key<T>(resource.Namespace, resource.Name);
            if (!_objects.TryGetValue(key, out var current))
                throw new StoreNotFoundException($"{resource} does not exist");
            if (current.Metadata.ResourceVersion != resource.Metadata.ResourceVersion)
                throw new StoreConflictException($"{resource} changed since it was read");
            var stored = Clone(resource);
            stored.Metadata.Namespace = resource.Namespace;
            stored.Metadata.ResourceVersion = (++_version).ToString();
            _objects[key] = stored;
            Notify(WatchEventType.Modified, stored);
            return Task.FromResult(Clone(stored));
        }
    }

    public Task<bool> DeleteAsync<T>(string @namespace, string name, string? resourceVersion = null, CancellationToken cancellationToken = default) where T : Resource
    {
        Check();
        lock (_gate)
        {
            var key = Key<T>(@namespace, name);
            if (!_objects.TryGetValue(key, out var current))
                return Task.FromResult(false);
            if (resourceVersion is not null && current.Metadata.ResourceVersion != resourceVersion)
                throw new StoreConflictException($"{current} changed since it was read");
            _objects.Remove(key);
            Notify(WatchEventType.Deleted, current);
            return Task.FromResult(true);
        }
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(string? @namespace = null, [EnumeratorCancellation] CancellationToken cancellationToken = default) where T : Resource
    {
        Check();
        var channel = Channel.CreateUnbounded<object>();
        lock (_gate)
        {
            foreach (var (key, value) in _objects)
                if (key.Kind == typeof(T).Name && (@namespace is null || key.Namespace == @namespace))
                    channel.Writer.TryWrite(new WatchEvent<T>(WatchEventType.Added, Clone((T)value)));
            channel.Writer.TryWrite(new WatchEvent<T>(WatchEventType.Synced, null));
            _watchers.Add((typeof(T), @namespace, channel));
        }
        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                yield return (WatchEvent<T>)item;
        }
        finally
        {
            lock (_gate)
                _watchers.RemoveAll(w => w.Channel == channel);
        }
    }

    private void Notify<T>(WatchEventType type, T stored) where T : Resource
    {
        Interlocked.Increment(ref _writes);
        foreach (var (watchedType, ns, channel) in _watchers)
        {
            if (watchedType != stored.GetType() || (ns is not null && ns != stored.Namespace))
                continue;
            var copy = CloneAs(stored, watchedType);
            var watchEvent = Activator.CreateInstance(typeof(WatchEvent<>).MakeGenericType(watchedType), type, copy)!;
            channel.Writer.TryWrite(watchEvent);
        }
    }

    private void Check()
    {
        if (Unreachable)
            throw new IOException($"store of {Cluster} is unreachable");
    }

    private static (string, string, string) Key<T>(string @namespace, string name) where T : Resource =>
        (typeof(T).Name, string.IsNullOrEmpty(@namespace) ? ObjectMeta.DefaultNamespace : @namespace, name);

    private static T Clone<T>(T resource) where T : Resource => (T)CloneAs(resource, resource.GetType());

    private static Resource CloneAs(Resource resource, Type type) =>
        (Resource)JsonSerializer.Deserialize(JsonSerializer.Serialize(resource, type), type)!;
}
