using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace FedMesh.Kubernetes.Tests.ApiServer;

/// <summary>
/// The server's objects as JSON, one global resourceVersion counter (as etcd's revision), and a bounded
/// history of changes that watches replay from; a watch from before the history's start gets 410 Gone.
/// </summary>
internal sealed class ObjectStore(int historyLimit, TimeProvider time)
{
    private readonly object _gate = new();
    private readonly Dictionary<(string, string, string?, string), JsonObject> _objects = new();
    private readonly LinkedList<StoredEvent> _history = new();
    private readonly List<Subscription> _subscriptions = new();
    private long _version = 100;
    private long _compactedThrough = 100;

    public long Version { get { lock (_gate) return _version; } }

    public (List<JsonObject> Items, long Version) List(ApiPath path, LabelSelector selector)
    {
        lock (_gate)
        {
            var items = _objects
                .Where(kv => kv.Key.Item1 == path.Group && kv.Key.Item2 == path.Resource && (path.Namespace is null || kv.Key.Item3 == path.Namespace) && selector.Matches(kv.Value))
                .OrderBy(kv => kv.Key.Item3, StringComparer.Ordinal).ThenBy(kv => kv.Key.Item4, StringComparer.Ordinal)
                .Select(kv => (JsonObject)kv.Value.DeepClone()).ToList();
            return (items, _version);
        }
    }

    public JsonObject Get(ApiPath path, string name)
    {
        lock (_gate)
            return _objects.TryGetValue(Key(path, name), out var obj) ? (JsonObject)obj.DeepClone() : throw ApiError.NotFound(path, name);
    }

    public JsonObject Create(ApiPath path, JsonObject body)
    {
        var meta = body["metadata"] as JsonObject ?? throw new ApiError(422, "Invalid", "metadata: Required value");
        var name = meta["name"]?.GetValue<string>();
        if (string.IsNullOrEmpty(name)) throw new ApiError(422, "Invalid", $"{path.GroupResource}: metadata.name: Required value: name is required");
        lock (_gate)
        {
            var key = Key(path, name);
            if (_objects.ContainsKey(key)) throw new ApiError(409, "AlreadyExists", $"{path.GroupResource} \"{name}\" already exists");
            if (path.Namespace is not null) meta["namespace"] = path.Namespace;
            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            return Commit("ADDED", path, key, body);
        }
    }

    public JsonObject Replace(ApiPath path, string name, JsonObject body, Func<JsonObject, JsonObject>? merge = null)
    {
        lock (_gate)
        {
            var key = Key(path, name);
            if (!_objects.TryGetValue(key, out var stored)) throw ApiError.NotFound(path, name);
            if (merge is not null) body = merge((JsonObject)stored.DeepClone());
            var meta = body["metadata"] as JsonObject ?? new JsonObject();
            body["metadata"] = meta;
            var expected = meta["resourceVersion"]?.GetValue<string>();
            var actual = stored["metadata"]!["resourceVersion"]!.GetValue<string>();
            if (!string.IsNullOrEmpty(expected) && expected != actual)
                throw ApiError.Conflict(path, name, "the object has been modified; please apply your changes to the latest version and try again");
            meta["name"] = name;
            if (path.Namespace is not null) meta["namespace"] = path.Namespace;
            meta["uid"] = stored["metadata"]!["uid"]?.DeepClone();
            meta["creationTimestamp"] = stored["metadata"]!["creationTimestamp"]?.DeepClone();
            return Commit("MODIFIED", path, key, body);
        }
    }

    public JsonObject Delete(ApiPath path, string name, string? precondition)
    {
        lock (_gate)
        {
            var key = Key(path, name);
            if (!_objects.TryGetValue(key, out var stored)) throw ApiError.NotFound(path, name);
            if (precondition is not null && precondition != stored["metadata"]!["resourceVersion"]!.GetValue<string>())
                throw ApiError.Conflict(path, name, $"Precondition failed: ResourceVersion: Expected {precondition}, actual {stored["metadata"]!["resourceVersion"]}");
            _objects.Remove(key);
            var gone = (JsonObject)stored.DeepClone();
            Record("DELETED", path, ++_version, gone);
            return (JsonObject)gone.DeepClone();
        }
    }

    /// <summary>Deletes every object <paramref name="match"/> selects by (group, resource, namespace), one DELETED event each.</summary>
    public void DeleteWhere(Func<string, string, string?, bool> match)
    {
        lock (_gate)
        {
            foreach (var key in _objects.Keys.Where(k => match(k.Item1, k.Item2, k.Item3)).ToList())
            {
                var gone = _objects[key];
                _objects.Remove(key);
                Record("DELETED", new ApiPath(key.Item1, "", key.Item2, key.Item3, key.Item4), ++_version, (JsonObject)gone.DeepClone());
            }
        }
    }

    /// <summary>Forgets the history up to now (as etcd compaction): watches from an older resourceVersion get 410.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _history.Clear();
            _compactedThrough = _version;
        }
    }

    /// <summary>Starts a watch: the events after <paramref name="from"/> plus every later one, or 410 if the history does not reach back.</summary>
    public Subscription Subscribe(ApiPath path, LabelSelector selector, long? from)
    {
        var subscription = new Subscription(e => e.Group == path.Group && e.Resource == path.Resource && (path.Namespace is null || e.Namespace == path.Namespace) && selector.Matches(e.Object));
        lock (_gate)
        {
            if (from is null)
            {
                foreach (var item in List(path, selector).Items)
                    subscription.Offer(new StoredEvent(_version, "ADDED", path.Group, path.Resource, path.Namespace, item));
            }
            else if (from < _compactedThrough)
            {
                throw new ApiError(410, "Expired", $"too old resource version: {from} ({_compactedThrough})");
            }
            else
            {
                foreach (var e in _history)
                    if (e.ResourceVersion > from) subscription.Offer(e);
            }
            _subscriptions.Add(subscription);
        }
        return subscription;
    }

    /// <summary>The resourceVersion a bookmark may carry now: null while the watch still has events to send.</summary>
    public long? BookmarkVersion(Subscription subscription)
    {
        lock (_gate)
            return subscription.Events.Count > 0 ? null : _version;
    }

    public void Unsubscribe(Subscription subscription)
    {
        lock (_gate) _subscriptions.Remove(subscription);
    }

    public IReadOnlyList<JsonObject> All(string group, string resource)
    {
        lock (_gate)
            return _objects.Where(kv => kv.Key.Item1 == group && kv.Key.Item2 == resource).Select(kv => (JsonObject)kv.Value.DeepClone()).ToList();
    }

    private JsonObject Commit(string type, ApiPath path, (string, string, string?, string) key, JsonObject body)
    {
        var version = ++_version;
        body["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        _objects[key] = (JsonObject)body.DeepClone();
        Record(type, path, version, (JsonObject)body.DeepClone());
        return body;
    }

    private void Record(string type, ApiPath path, long version, JsonObject obj)
    {
        obj["metadata"]!["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture);
        var e = new StoredEvent(version, type, path.Group, path.Resource, obj["metadata"]?["namespace"]?.GetValue<string>(), obj);
        _history.AddLast(e);
        while (_history.Count > historyLimit)
        {
            _compactedThrough = _history.First!.Value.ResourceVersion;
            _history.RemoveFirst();
        }
        foreach (var s in _subscriptions) s.Offer(e);
    }

    private static (string, string, string?, string) Key(ApiPath path, string name) => (path.Group, path.Resource, path.Namespace, name);
}

/// <summary>One open watch: matching events are queued for the streaming response.</summary>
internal sealed class Subscription(Func<StoredEvent, bool> filter)
{
    private readonly Channel<StoredEvent> _events = Channel.CreateUnbounded<StoredEvent>();

    public ChannelReader<StoredEvent> Events => _events.Reader;

    public void Offer(StoredEvent e)
    {
        if (filter(e)) _events.Writer.TryWrite(e);
    }
}
