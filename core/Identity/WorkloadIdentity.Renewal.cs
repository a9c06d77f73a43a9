using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Identity;

public sealed partial class WorkloadIdentity
{
    private static readonly TimeSpan FirstRenewalBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRenewalBackoff = TimeSpan.FromMinutes(1);

    private void StartRenewal() => _ = Task.Run(() => RenewLoopAsync(_stop.Token));

    /// <summary>Waits until the renewal point, obtains a new leaf (retrying with backoff) and swaps it in.</summary>
    private async Task RenewLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var wait = Volatile.Read(ref _material).RenewAt - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
                }
                await RenewOnceAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed while renewing: nothing left to renew for.
        }
    }

    private async Task RenewOnceAsync(CancellationToken cancellationToken)
    {
        var backoff = FirstRenewalBackoff;
        while (true)
        {
            try
            {
                var fresh = await _certifier!.CertifyAsync(cancellationToken).ConfigureAwait(false);
                Volatile.Write(ref _material, fresh);
                _logger.LogInformation("identity {Id} renewed, valid until {NotAfter:u}", Id, fresh.NotAfter);
                RaiseRenewed();
                return;
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                var left = Volatile.Read(ref _material).NotAfter - _time.GetUtcNow();
                _logger.Log(left < TimeSpan.FromHours(1) ? LogLevel.Error : LogLevel.Warning,
                    "renewing identity {Id} from {Controller} failed ({Error}); current certificate expires in {Left}; retrying in {Delay:F0}s",
                    Id, _certifier!.ControllerAddress, e.Message, left, backoff.TotalSeconds);
            }
            await Task.Delay(Jitter(backoff), _time, cancellationToken).ConfigureAwait(false);
            backoff = Min(backoff * 2, MaxRenewalBackoff);
        }
    }

    private void RaiseRenewed()
    {
        try
        {
            Renewed?.Invoke(this);
        }
        catch (Exception e)
        {
            _logger.LogError(e, "a Renewed handler of identity {Id} failed", Id);
        }
    }
}
