using System.Collections.Concurrent;
using System.Threading.Channels;
using FedMesh.Core.Discovery.Protocol;
using Grpc.Core;

namespace FedMesh.Proxy.Tests.Support;

/// <summary>A discovery server whose snapshots the test pushes; every watcher gets the latest at once.</summary>
internal sealed class TestDiscovery : Discovery.DiscoveryBase
{
    private readonly Lock _lock = new();
    private readonly List<Channel<Snapshot>> _watchers = new();
    private Snapshot? _current;

    public ConcurrentQueue<Node> Nodes { get; } = new();

    public void Push(Snapshot snapshot)
    {
        lock (_lock)
        {
            _current = snapshot;
            foreach (var watcher in _watchers)
                watcher.Writer.TryWrite(snapshot);
        }
    }

    public override async Task Watch(Node request, IServerStreamWriter<Snapshot> responseStream, ServerCallContext context)
    {
        Nodes.Enqueue(request);
        var channel = Channel.CreateUnbounded<Snapshot>();
        lock (_lock)
        {
            _watchers.Add(channel);
            if (_current is not null)
                channel.Writer.TryWrite(_current);
        }
        try
        {
            await foreach (var snapshot in channel.Reader.ReadAllAsync(context.CancellationToken))
                await responseStream.WriteAsync(snapshot);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            lock (_lock)
                _watchers.Remove(channel);
        }
    }
}
