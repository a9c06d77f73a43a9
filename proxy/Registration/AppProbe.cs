using System.Net.Sockets;
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
            using (var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                attempt.CancelAfter(ProxyDefaults.ConnectTimeout);
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await socket.ConnectAsync(app.Host, app.Port, attempt.Token).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is SocketException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
                {
                    // not listening yet
                }
            }
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, ProxyDefaults.RetryMaxDelay.Ticks));
        }
    }
}
