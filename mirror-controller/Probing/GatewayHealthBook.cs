using System.Collections.Concurrent;

namespace FedMesh.MirrorController.Probing;

/// <summary>
/// What the probes know about each linked cluster's gateway, by cluster name. A cluster not probed yet is
/// unknown, which counts as alive: a restarted controller never reports a live gateway dead before its
/// first probe. Discovery reads it on every build; <see cref="Changed"/> fires when a verdict changes.
/// </summary>
internal sealed class GatewayHealthBook
{
    private readonly ConcurrentDictionary<string, bool> _alive = new(StringComparer.Ordinal);

    public event Action? Changed;

    /// <summary>True only when probes have declared the gateway of <paramref name="cluster"/> dead.</summary>
    public bool IsDead(string cluster) => _alive.TryGetValue(cluster, out var alive) && !alive;

    /// <summary>Null when not probed yet.</summary>
    public bool? IsAlive(string cluster) => _alive.TryGetValue(cluster, out var alive) ? alive : null;

    public void Report(string cluster, bool alive)
    {
        var previous = _alive.TryGetValue(cluster, out var known) ? known : (bool?)null;
        _alive[cluster] = alive;
        if (previous != alive)
            Changed?.Invoke();
    }

    public void Forget(string cluster)
    {
        if (_alive.TryRemove(cluster, out var alive) && !alive)
            Changed?.Invoke();
    }
}
