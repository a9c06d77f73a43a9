using FedMesh.Core.Transport;
using FedMesh.Proxy.Configuration;

namespace FedMesh.Proxy.Registration;

/// <summary>Waits until the app accepts TCP connections, retrying with capped exponential backoff.</summary>
internal static class AppProbe
{
    public static async Task WaitUntilReachableAsync(Uri app, TimeProvider time, CancellationToken cancellationToken)
    {
        var delay = ProxyDefaults.RetryInitialDelay;
        while (true)
        {
            if (await TcpProbe.ReachableAsync(app.Host, app.Port, ProxyDefaults.ConnectTimeout, cancellationToken).ConfigureAwait(false))
                return;
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, ProxyDefaults.RetryMaxDelay.Ticks));
        }
    }
}
