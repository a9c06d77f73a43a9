using FedMesh.Proxy.Configuration;

namespace FedMesh.Proxy.Hosting;

internal sealed partial class ProxyRuntime
{
    /// <summary>Deregisters the endpoint, drains the listeners and releases everything. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
            return;
        ProxyLog.Stopping(_logger);
        _backgroundStop.Cancel();
        try { await _background.ConfigureAwait(false); }
        catch (Exception) { /* already logged where it happened */ }

        if (_registered && _registrar is not null)
        {
            using var deregister = new CancellationTokenSource(ProxyDefaults.DeregisterTimeout, _time);
            await _registrar.DeregisterAsync(deregister.Token).ConfigureAwait(false);
            await Task.Delay(ProxyDefaults.DeregisterPropagation, _time).ConfigureAwait(false);
        }

        using (var drain = new CancellationTokenSource(ProxyDefaults.DeregisterTimeout, _time))
        {
            foreach (var listener in new[] { _outbound, _inbound, _admin })
            {
                if (listener is null)
                    continue;
                try { await listener.StopAsync(drain.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { }
                await listener.DisposeAsync().ConfigureAwait(false);
            }
        }

        if (_reporter is not null)
            await _reporter.DisposeAsync().ConfigureAwait(false);
        if (_discovery is not null)
            await _discovery.DisposeAsync().ConfigureAwait(false);
        _routing?.Dispose();
        _clients?.Dispose();
        _appClient?.Dispose();
        switch (_store)
        {
            case IAsyncDisposable asyncDisposable: await asyncDisposable.DisposeAsync().ConfigureAwait(false); break;
            case IDisposable disposable: disposable.Dispose(); break;
        }
        _identity?.Dispose();
        _published?.Dispose();
        _telemetry?.Dispose();
        _backgroundStop.Dispose();
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
