using FedMesh.Core.Common;
using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Telemetry.Protocol;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FedMesh.Core.Telemetry;

/// <summary>
/// Sends a process's request statistics to its cluster's controller a period (default 1 s) after requests were
/// counted, and every period while they go on, over one long-lived client stream, reconnecting with jittered
/// backoff; an idle process sends nothing and sets no timer. While the controller is unreachable, deltas accumulate
/// in the recorder's counters and go out with the next report (only a report being written as the stream breaks is
/// lost).
/// </summary>
public sealed class StatsReporter : IAsyncDisposable
{
    private readonly ControllerStream _stream;
    private readonly Node _node;
    private readonly RequestStatsRecorder _recorder;
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;

    public StatsReporter(string controllerAddress, Node node, RequestStatsRecorder recorder, ILogger logger, TimeProvider? time = null, TimeSpan? period = null)
    {
        _node = node;
        _recorder = recorder;
        _time = time ?? TimeProvider.System;
        _period = period ?? TimeSpan.FromSeconds(1);
        _stream = new ControllerStream(controllerAddress, new ReconnectBackoff(TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), _time), logger, "stats stream");
    }

    public void Start()
    {
        var client = new Protocol.Telemetry.TelemetryClient(_stream.Channel);
        _stream.Start(async (progressed, token) =>
        {
            using var call = client.Report(cancellationToken: token);
            while (true)
            {
                // An idle process sleeps here: no timer, no empty report (the controller keeps nothing of one).
                await _recorder.WhenCountedAsync(token).ConfigureAwait(false);
                await Task.Delay(_period, _time, token).ConfigureAwait(false);
                if (call.ResponseAsync.IsCompleted)
                {
                    // The stream ended while nothing was sent (the controller restarted): open it again before
                    // draining, so these counts go out on the new stream instead of being lost with the old one.
                    await call.ResponseAsync.ConfigureAwait(false);
                    return;
                }
                var stats = _recorder.Drain();
                if (stats.Count == 0)
                    continue;
                var report = new StatsReport { Node = _node };
                report.Stats.AddRange(stats);
                await call.RequestStream.WriteAsync(report, token).ConfigureAwait(false);
                progressed();
            }
        });
    }

    public ValueTask DisposeAsync() => _stream.DisposeAsync();
}
