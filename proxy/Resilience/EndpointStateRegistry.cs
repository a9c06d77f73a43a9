namespace FedMesh.Proxy.Resilience;

/// <summary>
/// Endpoint states by "address|identity", so a new snapshot keeps the balancer and accrual state of the
/// endpoints it still holds. An endpoint the new snapshot lists as unhealthy (a gateway the controller's probes
/// declared dead) is evicted: requests waiting on it are abandoned and re-routed. One that merely disappears
/// (scaled down, deregistered while draining) keeps serving what it has in flight. Used by the (serialized)
/// routing table builder only.
/// </summary>
internal sealed class EndpointStateRegistry(AccrualSettings accrual, TimeProvider time)
{
    private Dictionary<string, EndpointState> _current = new(StringComparer.Ordinal);
    private Dictionary<string, EndpointState> _next = new(StringComparer.Ordinal);
    private readonly HashSet<string> _unhealthy = new(StringComparer.Ordinal);

    /// <summary>The snapshot being built lists this endpoint as unhealthy.</summary>
    public void MarkUnhealthy(string address, string identity) => _unhealthy.Add(address + "|" + identity);

    /// <summary>The state for an endpoint of the snapshot being built.</summary>
    public EndpointState Get(string address, string identity)
    {
        var key = address + "|" + identity;
        if (_next.TryGetValue(key, out var state))
            return state;
        if (!_current.TryGetValue(key, out state))
            state = new EndpointState(accrual, time);
        _next[key] = state;
        return state;
    }

    /// <summary>Ends a build: states it did not use are dropped, and those it marked unhealthy evicted.</summary>
    public void Commit()
    {
        foreach (var (key, state) in _current)
            if (!_next.ContainsKey(key) && _unhealthy.Contains(key))
                state.Evict();
        (_current, _next) = (_next, _current);
        _next.Clear();
        _unhealthy.Clear();
    }

    /// <summary>Ends a failed build: nothing changes.</summary>
    public void Abandon()
    {
        _next.Clear();
        _unhealthy.Clear();
    }
}
