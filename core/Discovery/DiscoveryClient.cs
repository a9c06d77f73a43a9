using FedMesh.Core.Common;
using FedMesh.Core.Discovery.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Discovery;

/// <summary>
/// Keeps one node's latest discovery snapshot. Connects to the controller, replaces the snapshot
/// atomically on every push, keeps serving the last one while the stream is down and reconnects
/// with jittered exponential backoff (100 ms doubling to 5 s).
/// </summary>
public sealed class DiscoveryClient : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Node _node;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Snapshot? _current;
    private Task? _loop;

    public DiscoveryClient(string controllerAddress, Node node, ILogger logger, TimeProvider? time = null)
    {
        _channel = GrpcChannel.ForAddress(controllerAddress);
        _node = node;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The latest snapshot, or null before the first one arrives.</summary>
    public Snapshot? Current => Volatile.Read(ref _current);

    /// <summary>Raised after <see cref="Current"/> changes, on the receiving thread.</summary>
    public event Action<Snapshot>? Updated;

    /// <summary>True while the stream to the controller is up.</summary>
    public bool Connected { get; private set; }

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Completes when the first snapshot has arrived.</summary>
    public Task WaitForFirstAsync(CancellationToken cancellationToken) => _first.Task.WaitAsync(cancellationToken);

    private Task RunAsync(CancellationToken ct)
    {
        var client = new Protocol.Discovery.DiscoveryClient(_channel);
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), _time);
        return ControllerStream.RunAsync(async (progressed, token) =>
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
        }, backoff, _logger, "discovery stream", () => Connected = false, ct);
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        if (_loop is not null)
        {
            try { await _loop.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
        _channel.Dispose();
        _stop.Dispose();
    }
}
