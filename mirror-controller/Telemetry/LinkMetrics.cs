using System.Collections.Immutable;
using System.Diagnostics.Metrics;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Watching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Telemetry;

/// <summary>
/// Publishes every Link's probe results (what the prober writes to <c>status</c>) as observable gauges:
/// <c>fedmesh_link_alive</c> (1, 0; absent until probed), <c>fedmesh_link_probe_latency_seconds{percentile}</c>
/// and <c>fedmesh_link_mirrored_services</c>. A watch keeps an immutable snapshot; collection only reads it.
/// </summary>
internal sealed class LinkMetrics : BackgroundService, IInformerHandler<Link>
{
    /// <summary>Meter of the controller's own instruments.</summary>
    public const string MeterName = "FedMesh.Controller";

    private const string TargetTag = "target_cluster";
    private readonly Meter _meter = new(MeterName, "1.0");
    private readonly IClusterStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _cluster;
    private ImmutableDictionary<string, Link> _links = ImmutableDictionary<string, Link>.Empty;

    public LinkMetrics(IClusterStore store, Hosting.ControllerIdentity identity, TimeProvider time, ILogger<LinkMetrics> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
        _cluster = identity.Cluster;
        _meter.CreateObservableGauge("fedmesh.link.alive", ObserveAlive, null, "1 while the link's gateway answers probes, 0 when it does not");
        _meter.CreateObservableGauge("fedmesh.link.probe.latency", ObserveLatency, "s", "Probe round-trip latency to the link's gateway");
        _meter.CreateObservableGauge("fedmesh.link.mirrored_services", ObserveMirrored, null, "Services mirrored through the link");
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        new StoreInformer<Link>("links for metrics", _ => ValueTask.FromResult(_store), WellKnown.SystemNamespace, this,
            new Backoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(10), Random.Shared), _time, _logger).RunAsync(stoppingToken);

    public override void Dispose()
    {
        _meter.Dispose();
        base.Dispose();
    }

    private IEnumerable<Measurement<int>> ObserveAlive()
    {
        foreach (var link in _links.Values)
            if (link.Status?.Alive is { } alive)
                yield return new Measurement<int>(alive ? 1 : 0, Tags(link));
    }

    private IEnumerable<Measurement<double>> ObserveLatency()
    {
        foreach (var link in _links.Values)
        {
            if (link.Status?.Latency is not { } latency || link.Status.Alive != true) continue;
            yield return new Measurement<double>(latency.P50 / 1000, [.. Tags(link), new("percentile", "p50")]);
            yield return new Measurement<double>(latency.P95 / 1000, [.. Tags(link), new("percentile", "p95")]);
            yield return new Measurement<double>(latency.P99 / 1000, [.. Tags(link), new("percentile", "p99")]);
        }
    }

    private IEnumerable<Measurement<int>> ObserveMirrored()
    {
        foreach (var link in _links.Values)
            yield return new Measurement<int>(link.Status?.MirroredServices ?? 0, Tags(link));
    }

    private KeyValuePair<string, object?>[] Tags(Link link) =>
        [new("source_cluster", _cluster), new(TargetTag, link.Spec.TargetCluster)];

    public ValueTask OnSyncedAsync(IReadOnlyList<Link> items, CancellationToken cancellationToken)
    {
        _links = items.ToImmutableDictionary(l => l.Name, StringComparer.Ordinal);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnUpsertAsync(Link item, CancellationToken cancellationToken)
    {
        ImmutableInterlocked.Update(ref _links, (links, link) => links.SetItem(link.Name, link), item);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnDeleteAsync(Link item, CancellationToken cancellationToken)
    {
        ImmutableInterlocked.Update(ref _links, (links, name) => links.Remove(name), item.Name);
        return ValueTask.CompletedTask;
    }

    public ValueTask OnErrorAsync(Exception error, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
