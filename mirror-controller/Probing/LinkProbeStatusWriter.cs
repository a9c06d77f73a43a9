using System.Globalization;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Probing;

/// <summary>
/// Writes a Link's probe fields (alive, lastProbe, latency) with compare-and-swap. A change of alive is written
/// at once; otherwise at most every <see cref="RefreshInterval"/>, and only when a percentile moved by more
/// than a quarter (and 1 ms) or lastProbe is a minute old — latency jitter never turns into a write per second.
/// One writer per link (its probe loop), so the last written values are kept here.
/// </summary>
internal sealed class LinkProbeStatusWriter(IClusterStore store, TimeProvider time)
{
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan LastProbeMaxAge = TimeSpan.FromMinutes(1);
    private readonly Dictionary<string, Written> _written = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public async Task ReportAsync(string linkName, bool alive, DateTimeOffset probedAt, LatencyWindow latencies, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var (p50, p95, p99) = latencies.Percentiles();
        Written? last;
        lock (_lock)
            _written.TryGetValue(linkName, out last);
        if (last is not null && last.Alive == alive)
        {
            if (now - last.At < RefreshInterval)
                return;
            var moved = Moved(last.P50, p50) || Moved(last.P95, p95) || Moved(last.P99, p99);
            if (!moved && now - last.At < LastProbeMaxAge)
                return;
        }
        var stamp = probedAt.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        await store.MutateAsync<Link>(WellKnown.SystemNamespace, linkName, current =>
        {
            if (current is null)
                return null;
            current.Status ??= new LinkStatus();
            current.Status.Alive = alive;
            current.Status.LastProbe = stamp;
            current.Status.Latency = latencies.Count == 0 ? current.Status.Latency : new LatencySummary { P50 = p50, P95 = p95, P99 = p99 };
            return current;
        }, cancellationToken).ConfigureAwait(false);
        lock (_lock)
            _written[linkName] = new Written(alive, now, p50, p95, p99);
    }

    public void Forget(string linkName)
    {
        lock (_lock)
            _written.Remove(linkName);
    }

    private static bool Moved(double before, double now) => Math.Abs(now - before) > Math.Max(1, before * 0.25);

    private sealed record Written(bool Alive, DateTimeOffset At, double P50, double P95, double P99);
}
