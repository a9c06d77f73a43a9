namespace FedMesh.Proxy.Admin;

/// <summary>The steps a proxy goes through before it is ready, in order; /ready names the first one missing.</summary>
internal enum ReadinessStep
{
    Identity,
    Snapshot,
    Listeners,
    App,
    Registration,
}

/// <summary>Tracks which start-up steps are done. Written rarely, read by /ready.</summary>
internal sealed class ReadinessGate(bool registrationRequired, string appAddress, string controller)
{
    private int _done; // bit per ReadinessStep

    public void Complete(ReadinessStep step)
    {
        var bit = 1 << (int)step;
        int current;
        do current = Volatile.Read(ref _done);
        while (Interlocked.CompareExchange(ref _done, current | bit, current) != current);
    }

    public bool IsDone(ReadinessStep step) => (Volatile.Read(ref _done) & (1 << (int)step)) != 0;

    /// <summary>Null when ready, otherwise why not.</summary>
    public string? NotReadyReason()
    {
        if (!IsDone(ReadinessStep.Identity)) return $"waiting for a certificate from the controller at {controller}";
        if (!IsDone(ReadinessStep.Snapshot)) return $"waiting for the first discovery snapshot from {controller}";
        if (!IsDone(ReadinessStep.Listeners)) return "binding the inbound and outbound listeners";
        if (!IsDone(ReadinessStep.App)) return $"waiting for the app to answer at {appAddress}";
        if (registrationRequired && !IsDone(ReadinessStep.Registration)) return "registering the endpoint in the cluster store";
        return null;
    }
}
