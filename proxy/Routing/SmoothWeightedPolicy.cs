namespace FedMesh.Proxy.Routing;

/// <summary>
/// Smooth weighted round robin over a route's backends: every pick adds each backend's weight to
/// its credit, takes the backend with the most credit and charges it the total. Deterministic and
/// evenly interleaved (5:1 gives a a a b a a, not a a a a a b). The state is a few integers behind a
/// tiny lock.
/// </summary>
internal sealed class SmoothWeightedPolicy : IBackendPolicy
{
    private readonly BackendSet[] _backends;
    private readonly int[] _weights;
    private readonly long[] _credit;
    private readonly int _total;
    private readonly Lock _lock = new();

    public SmoothWeightedPolicy(BackendSet[] backends, int[] weights)
    {
        if (backends.Length == 0 || backends.Length != weights.Length)
            throw new ArgumentException("need one positive weight per backend", nameof(weights));
        _backends = backends;
        _weights = weights;
        _credit = new long[backends.Length];
        foreach (var w in weights)
        {
            if (w <= 0)
                throw new ArgumentException("weights must be positive", nameof(weights));
            _total += w;
        }
    }

    public BackendSet Choose()
    {
        if (_backends.Length == 1)
            return _backends[0];
        lock (_lock)
        {
            var best = 0;
            for (var i = 0; i < _credit.Length; i++)
            {
                _credit[i] += _weights[i];
                if (_credit[i] > _credit[best])
                    best = i;
            }
            _credit[best] -= _total;
            return _backends[best];
        }
    }
}
