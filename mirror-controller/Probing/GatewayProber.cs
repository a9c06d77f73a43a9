using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Hosting;
using FedMesh.MirrorController.Watching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Probing;

/// <summary>
/// Probes the gateway of every cluster this one mirrors (one <see cref="ProbeWorker"/> per mirroring Link,
/// restarted when its gateway or probe settings change). Its client identity is the controller's own
/// (<c>spiffe://td/cluster/c/ns/fedmesh-system/sa/controller</c>), signed by the cluster issuer it holds.
/// Mirrors are never deleted for a dead gateway: discovery marks their endpoints unhealthy instead.
/// </summary>
internal sealed class GatewayProber(
    IClusterStore store, ControllerIdentity controller, ProbeIdentitySource identities, GatewayHealthBook book,
    MirrorControllerOptions options, TimeProvider time, ILoggerFactory loggers) : BackgroundService, IInformerHandler<Link>
{
    private readonly Dictionary<string, Worker> _workers = new(StringComparer.Ordinal);
    private readonly LinkProbeStatusWriter _status = new(store, time);
    private readonly ILogger _logger = loggers.CreateLogger("FedMesh.MirrorController.Probing");
    private CancellationToken _stopping;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), options.WatchRetryMaxDelay, Random.Shared);
        var informer = new StoreInformer<Link>($"links of cluster '{controller.Cluster}' (probes)", _ => ValueTask.FromResult(store),
            WellKnown.SystemNamespace, this, backoff, time, _logger);
        try
        {
            await informer.RunAsync(stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            foreach (var worker in _workers.Values)
                worker.Stop.Cancel();
            await Task.WhenAll(_workers.Values.Select(w => w.Run)).ConfigureAwait(false);
        }
    }

    public ValueTask OnSyncedAsync(IReadOnlyList<Link> items, CancellationToken cancellationToken)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in items)
        {
            names.Add(link.Name);
            Upsert(link);
        }
        foreach (var name in _workers.Keys.Where(n => !names.Contains(n)).ToList())
            Remove(name);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnUpsertAsync(Link item, CancellationToken cancellationToken)
    {
        Upsert(item);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnDeleteAsync(Link item, CancellationToken cancellationToken)
    {
        Remove(item.Name);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnErrorAsync(Exception error, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    private void Upsert(Link link)
    {
        var spec = link.Spec;
        if (!spec.Mirror || string.IsNullOrEmpty(spec.GatewayAddress) || string.IsNullOrEmpty(spec.TargetCluster))
        {
            Remove(link.Name);
            return;
        }
        var settings = ProbeSettings.From(spec);
        if (_workers.TryGetValue(link.Name, out var existing))
        {
            if (existing.Settings == settings && existing.Cluster == spec.TargetCluster)
                return;
            Remove(link.Name);
        }
        var identity = identities.Current();
        if (identity is null)
            return; // no issuer (Kubernetes mode without one): nothing to probe with
        var stop = CancellationTokenSource.CreateLinkedTokenSource(_stopping);
        var worker = new ProbeWorker(link.Name, spec.TargetCluster, settings, identity, book, _status, time, new Random(), _logger);
        _workers[link.Name] = new Worker(spec.TargetCluster, settings, stop, Task.Run(() => worker.RunAsync(stop.Token), CancellationToken.None));
    }

    private void Remove(string name)
    {
        if (!_workers.Remove(name, out var worker))
            return;
        worker.Stop.Cancel();
        _status.Forget(name);
        if (!_workers.Values.Any(w => w.Cluster == worker.Cluster))
            book.Forget(worker.Cluster);
    }

    private sealed record Worker(string Cluster, ProbeSettings Settings, CancellationTokenSource Stop, Task Run);
}
