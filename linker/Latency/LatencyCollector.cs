using FedMesh.Core.Federation;
using FedMesh.Core.Resources;
using FedMesh.Core.Telemetry.Protocol;
using Grpc.Core;
using Grpc.Net.Client;

namespace FedMesh.Linker.Latency;

/// <summary>
/// Gathers a <see cref="LatencyReport"/>: probe results from every cluster's Links (its store), request
/// statistics from every cluster's controller (<c>Telemetry.Query</c>, which aggregates what its proxies
/// report). An unreachable controller or store is reported in <see cref="LatencyReport.Errors"/>, not fatal.
/// </summary>
internal sealed class LatencyCollector(Federation federation, TimeSpan window) : IDisposable
{
    private static readonly TimeSpan QueryDeadline = TimeSpan.FromSeconds(3);
    private readonly Dictionary<string, GrpcChannel> _channels = new(StringComparer.Ordinal);

    public async Task<LatencyReport> CollectAsync(CancellationToken ct)
    {
        var probes = new List<ProbeLatency>();
        var requests = new List<RequestLatency>();
        var errors = new List<string>();
        var clusters = federation.Config.Clusters;
        var queries = new Task<StatsView?>[clusters.Count];
        for (var i = 0; i < clusters.Count; i++)
            queries[i] = QueryAsync(clusters[i], errors, ct);
        foreach (var cluster in clusters)
        {
            try
            {
                foreach (var link in await federation.Store(cluster).ListAsync<Link>(WellKnown.SystemNamespace, ct).ConfigureAwait(false))
                {
                    var s = link.Status;
                    var alive = s?.Alive == true;
                    probes.Add(new ProbeLatency(cluster.Name, link.Spec.TargetCluster, s?.Alive, s?.LastProbe,
                        alive ? s!.Latency?.P50 : null, alive ? s!.Latency?.P95 : null, alive ? s!.Latency?.P99 : null, s?.MirroredServices ?? 0));
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CliException)
            {
                lock (errors) errors.Add($"cluster {cluster.Name}: cannot read its links: {e.Message}");
            }
        }
        foreach (var view in await Task.WhenAll(queries).ConfigureAwait(false))
        {
            if (view is null) continue;
            foreach (var e in view.Entries)
                requests.Add(new RequestLatency(e.Namespace, e.Service, e.Backend, e.SourceCluster, e.DestinationCluster,
                    e.Requests, e.Failures, Math.Round(e.RatePerSecond, 3), Math.Round(e.SuccessRate, 2), Math.Round(e.P50Ms, 3), Math.Round(e.P95Ms, 3), Math.Round(e.P99Ms, 3)));
        }
        requests.Sort((a, b) => string.CompareOrdinal(Key(a), Key(b)));
        probes.Sort((a, b) => string.CompareOrdinal(a.Source + "/" + a.Target, b.Source + "/" + b.Target));
        errors.Sort(StringComparer.Ordinal);
        return new LatencyReport(window.TotalSeconds, [.. clusters.Select(c => c.Name)], probes, requests, errors);
    }

    private static string Key(RequestLatency r) => $"{r.Namespace}/{r.Service}/{r.SourceCluster}/{r.DestinationCluster}/{r.Backend}";

    private async Task<StatsView?> QueryAsync(ClusterConfig cluster, List<string> errors, CancellationToken ct)
    {
        if (cluster.Controller.GrpcPort <= 0)
        {
            lock (errors) errors.Add($"cluster {cluster.Name}: no controller address in the federation config (type {cluster.Type}); request statistics skipped");
            return null;
        }
        var address = $"http://127.0.0.1:{cluster.Controller.GrpcPort}";
        try
        {
            if (!_channels.TryGetValue(cluster.Name, out var channel))
                _channels[cluster.Name] = channel = GrpcChannel.ForAddress(address);
            var client = new Core.Telemetry.Protocol.Telemetry.TelemetryClient(channel);
            return await client.QueryAsync(new StatsQuery { WindowMs = (long)window.TotalMilliseconds },
                deadline: DateTime.UtcNow + QueryDeadline, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (RpcException e) when (!ct.IsCancellationRequested)
        {
            lock (errors) errors.Add($"cluster {cluster.Name}: controller at {address} did not answer ({e.StatusCode}: {e.Status.Detail}); is the federation up? ('fedmesh status')");
            return null;
        }
    }

    public void Dispose()
    {
        foreach (var channel in _channels.Values) channel.Dispose();
        _channels.Clear();
    }
}
