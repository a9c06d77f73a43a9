using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Proxy.Configuration;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy.Registration;

/// <summary>
/// Registers this workload's endpoint in the <c>Endpoints</c> object named after its service
/// (local federation), replacing a stale entry of the same instance, and removes it on shutdown.
/// </summary>
internal sealed class EndpointRegistrar(IClusterStore store, ProxyOptions options, string identity, string inboundAddress, TimeProvider time, ILogger logger)
{
    /// <summary>Registers, retrying store errors with capped backoff until it succeeds or is cancelled.</summary>
    public async Task RegisterAsync(CancellationToken cancellationToken)
    {
        var delay = ProxyDefaults.RetryInitialDelay;
        while (true)
        {
            try
            {
                await store.MutateAsync<Endpoints>(options.Namespace, options.Service, AddOurs, cancellationToken).ConfigureAwait(false);
                ProxyLog.Registered(logger, inboundAddress, options.Namespace, options.Service);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                ProxyLog.RegistrationFailed(logger, options.Namespace, options.Service, e.Message);
            }
            await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, ProxyDefaults.RetryMaxDelay.Ticks));
        }
    }

    /// <summary>Removes our entry (the Endpoints object stays, possibly empty). Errors are logged, not thrown.</summary>
    /// <summary>Sets our entry's readiness; false (nothing written) when the store cannot be reached.</summary>
    public async Task<bool> SetReadyAsync(bool ready, CancellationToken cancellationToken)
    {
        try
        {
            await store.MutateAsync<Endpoints>(options.Namespace, options.Service, current =>
            {
                var entry = current?.Spec.Endpoints.Find(IsOurs);
                if (entry is null || entry.Ready == ready)
                    return null;
                entry.Ready = ready;
                return current;
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ProxyLog.RegistrationFailed(logger, options.Namespace, options.Service, e.Message);
            return false;
        }
    }

    public async Task DeregisterAsync(CancellationToken cancellationToken)
    {
        try
        {
            await store.MutateAsync<Endpoints>(options.Namespace, options.Service, RemoveOurs, cancellationToken).ConfigureAwait(false);
            ProxyLog.Deregistered(logger, inboundAddress, options.Namespace, options.Service);
        }
        catch (Exception e)
        {
            ProxyLog.DeregistrationFailed(logger, options.Namespace, options.Service, e.Message);
        }
    }

    private Endpoints AddOurs(Endpoints? current)
    {
        var endpoints = current ?? new Endpoints();
        endpoints.Spec.Endpoints.RemoveAll(IsOurs);
        endpoints.Spec.Endpoints.Add(new EndpointEntry
        {
            Address = inboundAddress,
            Instance = options.Instance,
            Identity = identity,
            Cluster = options.Cluster,
            Zone = string.IsNullOrEmpty(options.Zone) ? null : options.Zone,
            Ready = true,
            Weight = 1,
        });
        return endpoints;
    }

    private Endpoints? RemoveOurs(Endpoints? current)
    {
        if (current is null)
            return null;
        current.Spec.Endpoints.RemoveAll(IsOurs);
        return current;
    }

    private bool IsOurs(EndpointEntry entry) => string.Equals(entry.Instance, options.Instance, StringComparison.Ordinal);
}
