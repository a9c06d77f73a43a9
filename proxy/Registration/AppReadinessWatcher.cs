using FedMesh.Core.Transport;

namespace FedMesh.Proxy.Registration;

/// <summary>
/// Keeps the registered endpoint's readiness in line with the app (a TCP readiness probe, as the kubelet
/// would run): every second; 3 failures in a row mark it not ready in the store, one success ready again.
/// This is what tells the controller that a cluster's local target lost its instances, so its failover
/// decision (and failback hysteresis) sees it.
/// <para>
/// The probe runs on a thread of its own that sleeps between probes: an idle sidecar's only regular work, it then
/// costs one wake-up a second. On a runtime timer it cost nine (the timer thread's, the thread pool's workers', and
/// the pool's gate kept awake by them), and a local app's answer needs no other thread (<see cref="TcpProbe"/>).
/// </para>
/// </summary>
internal sealed class AppReadinessWatcher(Uri app, EndpointRegistrar registrar)
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(500);
    public const int FailureThreshold = 3;

    /// <summary>Probes until <paramref name="cancellationToken"/> is cancelled (then completes); faults if the store fails.</summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(cancellationToken);
                done.TrySetResult();
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException && cancellationToken.IsCancellationRequested)
            {
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        { IsBackground = true, Name = "FedMesh app probe" };
        thread.Start();
        return done.Task;
    }

    private void Run(CancellationToken cancellationToken)
    {
        var ready = true;
        var failures = 0;
        // Sleeps a period, or until cancelled. The probe of a local app completes as it is called; a remote or silent
        // one, and a change of readiness written to the store, are waited for here, on this thread.
        while (!cancellationToken.WaitHandle.WaitOne(Period))
        {
            var ok = TcpProbe.ReachableAsync(app.Host, app.Port, Timeout, cancellationToken).GetAwaiter().GetResult();
            failures = ok ? 0 : failures + 1;
            var next = ok || (ready && failures < FailureThreshold);
            if (next != ready && registrar.SetReadyAsync(next, cancellationToken).GetAwaiter().GetResult())
                ready = next;
        }
    }
}
