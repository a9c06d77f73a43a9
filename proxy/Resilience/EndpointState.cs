using FedMesh.Proxy.LoadBalancing;

namespace FedMesh.Proxy.Resilience;

/// <summary>
/// What the proxy has learnt about one endpoint (latency, load, failures), kept across snapshots for as
/// long as the endpoint stays in them. <see cref="Evicted"/> fires when a snapshot drops it, so requests
/// stuck on it (a frozen gateway) are abandoned and, when safe, sent elsewhere.
/// </summary>
internal sealed class EndpointState
{
    private readonly CancellationTokenSource _evicted = new();

    public EndpointState(AccrualSettings accrual, TimeProvider time)
    {
        Accrual = new FailureAccrual(accrual);
        Load = new PeakEwma(time);
    }

    public FailureAccrual Accrual { get; }

    public PeakEwma Load { get; }

    /// <summary>Cancelled once no snapshot references the endpoint any more.</summary>
    public CancellationToken Evicted => _evicted.Token;

    public bool IsEvicted => _evicted.IsCancellationRequested;

    public void Evict()
    {
        try { _evicted.Cancel(); }
        catch (ObjectDisposedException) { }
    }
}
