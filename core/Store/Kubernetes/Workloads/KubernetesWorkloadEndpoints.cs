using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using FedMesh.Core.Resources;
using k8s;

namespace FedMesh.Core.Store.Kubernetes.Workloads;

/// <summary>
/// The endpoints of injected workloads in one Kubernetes cluster, found as a production mesh finds them: the
/// EndpointSlices Kubernetes keeps for each Service, joined with the pods labelled
/// <see cref="FedMesh.Core.Kubernetes.SidecarInjector.InjectedLabel"/> (see <see cref="WorkloadEndpointsJoin"/>). Both
/// are watched with <see cref="ResourceWatch"/> (list, watch with bookmarks, resume, relist on 410, backoff), which needs
/// list and watch on <c>endpointslices</c> and <c>pods</c> in every namespace. Nothing is emitted before both are listed.
/// </summary>
public sealed class KubernetesWorkloadEndpoints : IWorkloadEndpointSource
{
    private readonly string _cluster;
    private readonly string _trustDomain;
    private readonly KubernetesStoreOptions _options;
    private readonly IWatchableKind[] _kinds;

    /// <param name="cluster">The cluster's name in the federation: in every endpoint's SPIFFE id and cluster.</param>
    /// <param name="trustDomain">The federation's SPIFFE trust domain.</param>
    /// <param name="client">A KubernetesClient for the cluster's API server; not disposed here.</param>
    /// <param name="options">Watch and retry settings, as the store's; validated here.</param>
    public KubernetesWorkloadEndpoints(string cluster, string trustDomain, IKubernetes client, KubernetesStoreOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(cluster);
        ArgumentException.ThrowIfNullOrEmpty(trustDomain);
        ArgumentNullException.ThrowIfNull(client);
        _options = options ?? new KubernetesStoreOptions();
        var errors = _options.Validate();
        if (errors.Count > 0)
            throw new ArgumentException($"invalid Kubernetes watch options for cluster '{cluster}': {string.Join("; ", errors)}", nameof(options));
        _cluster = cluster;
        _trustDomain = trustDomain;
        _kinds = [new ServiceSliceAdapter(client, cluster), new InjectedPodAdapter(client, cluster)];
    }

    public string Description => $"endpoints of injected pods in cluster '{_cluster}'";

    public async IAsyncEnumerable<WatchEvent<Endpoints>> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var changes = Channel.CreateBounded<(int Kind, WatchEvent<Resource> Change)>(new BoundedChannelOptions(1024) { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pumps = Task.WhenAll(_kinds.Select((kind, i) => Task.Run(() => PumpAsync(kind, i, changes.Writer, stop.Token), CancellationToken.None)));
        var join = new WorkloadEndpointsJoin(_cluster, _trustDomain);
        var emitted = new Dictionary<(string, string), Endpoints>();
        var synced = new bool[_kinds.Length];
        try
        {
            while (await WaitAsync(changes.Reader, cancellationToken).ConfigureAwait(false))
            {
                while (changes.Reader.TryRead(out var next))
                {
                    var (kind, change) = next;
                    if (change.Type == WatchEventType.Synced)
                    {
                        synced[kind] = true;
                        if (!synced.All(s => s))
                            continue;
                        foreach (var e in Diff(join, join.Services.ToList(), emitted))
                            yield return e;
                        yield return new WatchEvent<Endpoints>(WatchEventType.Synced, null);
                        continue;
                    }
                    var affected = join.Apply(change.Type == WatchEventType.Deleted, change.Object!);
                    if (synced.All(s => s))
                        foreach (var e in Diff(join, affected, emitted))
                            yield return e;
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await pumps.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>What changed for <paramref name="services"/> since last emitted; <paramref name="emitted"/> is brought up to date.</summary>
    private static List<WatchEvent<Endpoints>> Diff(WorkloadEndpointsJoin join, IEnumerable<(string Ns, string Service)> services, Dictionary<(string, string), Endpoints> emitted)
    {
        var events = new List<WatchEvent<Endpoints>>();
        foreach (var key in services)
        {
            var now = join.Build(key.Ns, key.Service);
            emitted.TryGetValue(key, out var before);
            if (now is null)
            {
                if (before is not null && emitted.Remove(key))
                    events.Add(new WatchEvent<Endpoints>(WatchEventType.Deleted, before));
            }
            else if (before is null || !SameEntries(before, now))
            {
                emitted[key] = now;
                events.Add(new WatchEvent<Endpoints>(before is null ? WatchEventType.Added : WatchEventType.Modified, now));
            }
        }
        return events;
    }

    private static bool SameEntries(Endpoints a, Endpoints b) =>
        a.Spec.Endpoints.Count == b.Spec.Endpoints.Count
        && a.Spec.Endpoints.Zip(b.Spec.Endpoints).All(p =>
            p.First.Address == p.Second.Address && p.First.Instance == p.Second.Instance && p.First.Identity == p.Second.Identity
            && p.First.Zone == p.Second.Zone && p.First.Ready == p.Second.Ready);

    private async Task PumpAsync(IWatchableKind kind, int index, ChannelWriter<(int, WatchEvent<Resource>)> writer, CancellationToken cancellationToken)
    {
        try
        {
            var watch = new ResourceWatch(kind, _cluster, null, _options);
            await foreach (var change in watch.RunAsync(cancellationToken).ConfigureAwait(false))
                await writer.WriteAsync((index, change), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // One failed watch fails the whole view: the caller restarts it, as it would a store watch.
            writer.TryComplete(e);
        }
    }

    private static async ValueTask<bool> WaitAsync<T>(ChannelReader<T> reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e) when (e.InnerException is not null)
        {
            ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
