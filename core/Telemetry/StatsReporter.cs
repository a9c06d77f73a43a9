using FedMesh.Core.Common;
using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Telemetry.Protocol;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// Sends a process's request statistics to its cluster's controller once a period (default 1 s)
/// over one long-lived client stream, reconnecting with jittered backoff. While the controller is
/// unreachable, deltas accumulate in the recorder's counters and go out with the next report
/// (only a report being written as the stream breaks is lost).
/// </summary>
public sealed class StatsReporter : IAsyncDisposable
{
    private readonly GrpcChannel _channel;
    private readonly Node _node;
    private readonly RequestStatsRecorder _recorder;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public StatsReporter(string controllerAddress, Node node, RequestStatsRecorder recorder, ILogger logger, TimeProvider? time = null, TimeSpan? period = null)
    {
        _channel = GrpcChannel.ForAddress(controllerAddress);
        _node = node;
        _recorder = recorder;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _period = period ?? TimeSpan.FromSeconds(1);
    }

    public void Start() => _loop ??= Task.Run(() => RunAsync(_stop.Token));

    private Task RunAsync(CancellationToken ct)
    {
        var client = new Protocol.Telemetry.TelemetryClient(_channel);
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), _time);
        return ControllerStream.RunAsync(async (progressed, token) =>
        {
            using var call = client.Report(cancellationToken: token);
            using var timer = new PeriodicTimer(_period, _time);
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                var report = new StatsReport { Node = _node };
                report.Stats.AddRange(_recorder.Drain());
                await call.RequestStream.WriteAsync(report, token).ConfigureAwait(false);
                progressed();
            }
        }, backoff, _logger, "stats stream", null, ct);
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
