using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;

namespace FedMesh.MirrorController.Tests.Support;

/// <summary>A workload endpoint source that says what the test tells it, as the platform (Kubernetes) would.</summary>
internal sealed class ChannelWorkloadSource : IWorkloadEndpointSource
{
    private readonly Channel<WatchEvent<Endpoints>> _events = Channel.CreateUnbounded<WatchEvent<Endpoints>>();

    public string Description => "test workloads";

    public void Add(Endpoints endpoints) => _events.Writer.TryWrite(new(WatchEventType.Added, endpoints));

    public void Synced() => _events.Writer.TryWrite(new(WatchEventType.Synced, null));

    public void Delete(Endpoints endpoints) => _events.Writer.TryWrite(new(WatchEventType.Deleted, endpoints));

    public async IAsyncEnumerable<WatchEvent<Endpoints>> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken))
            yield return e;
    }
}
