using FedMesh.Core.Discovery.Protocol;
using Grpc.Core;

namespace FedMesh.Gateway.Tests.Fakes;

/// <summary>A controller's discovery server reduced to one published snapshot, pushed to every watcher on change.</summary>
internal sealed class TestDiscoveryService : Discovery.DiscoveryBase
{
    private readonly Lock _lock = new();
    private Snapshot? _current;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource _drop = new();

    public Node? LastNode { get; private set; }

    public int Watches { get; private set; }

    public void Publish(Snapshot snapshot)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            _current = snapshot;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>Breaks every open stream, as a controller restart would.</summary>
    public void DropStreams()
    {
        CancellationTokenSource drop;
        lock (_lock)
        {
            drop = _drop;
            _drop = new CancellationTokenSource();
        }
        drop.Cancel();
    }

    public override async Task Watch(Node request, IServerStreamWriter<Snapshot> responseStream, ServerCallContext context)
    {
        CancellationToken dropped;
        lock (_lock)
        {
            LastNode = request;
            Watches++;
            dropped = _drop.Token;
        }
        if (dropped.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "controller restarting"));
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken, dropped);
        Snapshot? sent = null;
        try
        {
            while (true)
            {
                Task changed;
                Snapshot? current;
                lock (_lock)
                {
                    changed = _changed.Task;
                    current = _current;
                }
                if (current is not null && !ReferenceEquals(current, sent))
                {
                    await responseStream.WriteAsync(current, linked.Token);
                    sent = current;
                }
                await changed.WaitAsync(linked.Token);
            }
        }
        catch (OperationCanceledException) when (dropped.IsCancellationRequested)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, "controller restarting"));
        }
    }
}
