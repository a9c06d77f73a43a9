using FedMesh.Core.Transport;

namespace FedMesh.Proxy.Registration;

/// <summary>
/// Keeps the registered endpoint's readiness in line with the app (a TCP readiness probe, as the kubelet
/// would run): every second; 3 failures in a row mark it not ready in the store, one success ready again.
/// This is what tells the controller that a cluster's local target lost its instances, so its failover
/// decision (and failback hysteresis) sees it.
/// </summary>
internal sealed class AppReadinessWatcher(Uri app, EndpointRegistrar registrar, TimeProvider time)
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    public const int FailureThreshold = 3;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var ready = true;
        var failures = 0;
        try
        {
            while (true)
            {
                await Task.Delay(Period, time, cancellationToken).ConfigureAwait(false);
                var ok = await ReachableAsync(cancellationToken).ConfigureAwait(false);
                failures = ok ? 0 : failures + 1;
                var next = ok || (ready && failures < FailureThreshold);
                if (next != ready && await registrar.SetReadyAsync(next, cancellationToken).ConfigureAwait(false))
                    ready = next;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private Task<bool> ReachableAsync(CancellationToken cancellationToken) =>
        TcpProbe.ReachableAsync(app.Host, app.Port, Timeout, cancellationToken);
}
