using FedMesh.Core.Common;
using FedMesh.Core.Discovery.Protocol;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Discovery;

/// <summary>
/// Keeps one node's latest discovery snapshot. Connects to the controller, replaces the snapshot
/// atomically on every push, keeps serving the last one while the stream is down and reconnects
/// with jittered exponential backoff (100 ms doubling to 5 s).
/// </summary>
public sealed class DiscoveryClient : IAsyncDisposable
{
    private readonly ControllerStream _stream;
    private readonly Node _node;
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Snapshot? _current;

    public DiscoveryClient(string controllerAddress, Node node, ILogger logger, TimeProvider? time = null)
    {
        _node = node;
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), time ?? TimeProvider.System);
        _stream = new ControllerStream(controllerAddress, backoff, logger, "discovery stream");
    }

    /// <summary>The latest snapshot, or null before the first one arrives.</summary>
    public Snapshot? Current => Volatile.Read(ref _current);

    /// <summary>Raised after <see cref="Current"/> changes, on the receiving thread.</summary>
    public event Action<Snapshot>? Updated;

    /// <summary>True while the stream to the controller is up.</summary>
    public bool Connected { get; private set; }

    /// <summary>Completes when the first snapshot has arrived.</summary>
    public Task WaitForFirstAsync(CancellationToken cancellationToken) => _first.Task.WaitAsync(cancellationToken);

    public void Start()
    {
        var client = new Protocol.Discovery.DiscoveryClient(_stream.Channel);
        _stream.Start(async (progressed, token) =>
        {
            using var call = client.Watch(_node, cancellationToken: token);
            await foreach (var snapshot in call.ResponseStream.ReadAllAsync(token).ConfigureAwait(false))
            {
                Connected = true;
                progressed();
                Volatile.Write(ref _current, snapshot);
                _first.TrySetResult();
                Updated?.Invoke(snapshot);
            }
        }, disconnected: () => Connected = false);
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
