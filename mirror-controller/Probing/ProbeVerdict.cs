namespace FedMesh.MirrorController.Probing;

/// <summary>
/// Turns probe results into alive / not alive: dead after <c>failureThreshold</c> consecutive failures,
/// alive again after one success. Unknown (null) until the first probe completes.
/// </summary>
internal sealed class ProbeVerdict(int failureThreshold)
{
    private int _consecutiveFailures;

    public bool? Alive { get; private set; }

    /// <summary>Consecutive failures so far (0 after a success).</summary>
    public int Failures => _consecutiveFailures;

    /// <summary>Records a result; true when <see cref="Alive"/> changed.</summary>
    public bool Record(bool success)
    {
        var before = Alive;
        if (success)
        {
            _consecutiveFailures = 0;
            Alive = true;
        }
        else if (++_consecutiveFailures >= failureThreshold)
            Alive = false;
        return before != Alive;
    }
}
