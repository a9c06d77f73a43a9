using System.Net;
using FedMesh.Core.Discovery.Protocol;
using FedMesh.Core.Telemetry;
using FedMesh.Core.Telemetry.Protocol;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Telemetry;

/// <summary>
/// The stats stream to the controller: an idle process sends nothing, counted requests go out within a period, and a
/// stream that broke while nothing was counted (the controller restarted) is opened again before the next counts are
/// drained, so they are not written into the broken one and lost.
/// </summary>
public sealed class StatsReporterTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);
    private static readonly RequestKey Key = new("default", "echo", "echo", "east", "west");

    [Fact]
    public async Task Idle_SendsNothing_ThenCountedRequestsArriveAlsoAfterTheControllerRestarted()
    {
        var port = LoopbackPort.Free();
        var received = new TelemetrySink();
        var controller = await StartControllerAsync(port, received);
        var recorder = new RequestStatsRecorder();
        await using var reporter = new StatsReporter($"http://127.0.0.1:{port}", new Node { Cluster = "east", Kind = NodeKind.Proxy },
            recorder, NullLogger.Instance, period: Period);
        reporter.Start();

        await Eventually.TrueAsync(() => received.Calls >= 1, "the stream opened", Deadline);
        await Task.Delay(Period * 6);
        var reportsWhileIdle = received.Reports;
        recorder.Cell(Key).Record(200, 1.5);
        await Eventually.TrueAsync(() => received.Requests == 1, "the first request reported", Deadline);

        await controller.DisposeAsync(); // the stream breaks while nothing is counted
        await Task.Delay(Period * 4);
        await using var restarted = await StartControllerAsync(port, received);
        recorder.Cell(Key).Record(503, 2.5); // the reporter finds the broken stream only now
        await Eventually.TrueAsync(() => received.Requests == 2, "the request counted after the restart reported", Deadline);

        Assert.Equal(0, reportsWhileIdle);
        Assert.Equal(2, received.Reports);
        Assert.True(received.Calls >= 2, "the stream was opened again");
    }

    private static async Task<WebApplication> StartControllerAsync(int port, TelemetrySink sink)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc();
        builder.Services.AddSingleton(sink);
        var app = builder.Build();
        app.MapGrpcService<TelemetrySink>();
        await app.StartAsync();
        return app;
    }

    /// <summary>The controller's side of the stream: counts the calls opened, the reports and the requests in them.</summary>
    private sealed class TelemetrySink : Core.Telemetry.Protocol.Telemetry.TelemetryBase
    {
        private int _calls, _reports;
        private long _requests;

        public int Calls => Volatile.Read(ref _calls);
        public int Reports => Volatile.Read(ref _reports);
        public long Requests => Interlocked.Read(ref _requests);

        public override async Task<ReportAck> Report(IAsyncStreamReader<StatsReport> requestStream, ServerCallContext context)
        {
            Interlocked.Increment(ref _calls);
            try
            {
                await foreach (var report in requestStream.ReadAllAsync(context.CancellationToken))
                {
                    Interlocked.Increment(ref _reports);
                    Interlocked.Add(ref _requests, report.Stats.Sum(s => (long)s.Requests));
                }
            }
            catch (OperationCanceledException)
            {
            }
            return new ReportAck();
        }
    }
}
