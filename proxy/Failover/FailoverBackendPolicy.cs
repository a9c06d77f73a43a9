using FedMesh.Proxy.LoadBalancing;
using FedMesh.Proxy.Routing;

namespace FedMesh.Proxy.Failover;

/// <summary>
/// A service's ordered failover targets as compiled by the controller, which also names the active one
/// (it owns failback hysteresis). The proxy reacts locally and at once: when the active target's healthy
/// share — snapshot health minus endpoints this proxy has ejected — drops below the threshold, requests go
/// to the next target that has open endpoints; at most <c>maxSpillPercent</c> of them while the active
/// target still has some. Never moves to an earlier target than the controller's active one unless every
/// later one is empty.
/// </summary>
internal sealed class FailoverBackendPolicy : IBackendPolicy
{
    private readonly BackendSet[] _targets;
    private readonly int _active;
    private readonly int _minHealthyPercent;
    private readonly int _maxSpillPercent;
    private int _spillCounter;

    public FailoverBackendPolicy(BackendSet[] targets, int active, int minHealthyPercent, int maxSpillPercent)
    {
        if (targets.Length == 0)
            throw new ArgumentException("a failover policy needs at least one target", nameof(targets));
        _targets = targets;
        _active = Math.Clamp(active, 0, targets.Length - 1);
        _minHealthyPercent = minHealthyPercent;
        _maxSpillPercent = maxSpillPercent;
    }

    public IReadOnlyList<BackendSet> Targets => _targets;

    /// <summary>The controller's active target.</summary>
    public int Active => _active;

    public BackendSet Choose() => _targets[ChooseIndex()];

    /// <summary>The target index this request should use first.</summary>
    public int ChooseIndex()
    {
        for (var i = _active; i < _targets.Length; i++)
        {
            var target = _targets[i];
            var share = target.HealthyPercent;
            if (share >= _minHealthyPercent && share > 0)
                return i;
            if (share > 0 && _maxSpillPercent < 100 && !Spill())
                return i; // degraded but not empty: keep (100 - maxSpill) % here
        }
        for (var i = 0; i < _targets.Length; i++)
            if (_targets[i].HealthyPercent > 0)
                return i;
        return _active;
    }

    /// <summary>
    /// An open endpoint for this request, not tried yet: the chosen target first, then the others in order
    /// (later ones before earlier ones). Null when no target has one left.
    /// </summary>
    public UpstreamEndpoint? Pick(ref TriedEndpoints tried, out BackendSet backend)
    {
        var first = ChooseIndex();
        // A preferred target this proxy ejected is never chosen again by its healthy share, so its probation
        // request must be offered here, or a recovered primary would stay ejected while a fallback answers.
        for (var i = _active; i < first; i++)
        {
            var probation = _targets[i].ClaimProbation(ref tried);
            if (probation is not null)
            {
                backend = _targets[i];
                return probation;
            }
        }
        backend = _targets[first];
        var endpoint = backend.Pick(ref tried);
        if (endpoint is not null)
            return endpoint;
        for (var step = 1; step < _targets.Length; step++)
        {
            var i = (first + step) % _targets.Length;
            if (i < _active && first >= _active)
                continue; // earlier targets only after every later one
            endpoint = _targets[i].Pick(ref tried);
            if (endpoint is not null)
            {
                backend = _targets[i];
                return endpoint;
            }
        }
        for (var i = 0; i < _active && i < _targets.Length; i++)
        {
            endpoint = _targets[i].Pick(ref tried);
            if (endpoint is not null)
            {
                backend = _targets[i];
                return endpoint;
            }
        }
        return null;
    }

    private bool Spill() => (uint)Interlocked.Increment(ref _spillCounter) % 100 < (uint)_maxSpillPercent;
}
