using System.Diagnostics;
using System.Net;
using FedMesh.Core.Identity;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Probing;

/// <summary>
/// Probes one linked gateway over mTLS until stopped: every period (±10 % jitter), and again at once after
/// a failure so a dead gateway is declared within about threshold × timeout rather than threshold × period.
/// Reports verdicts to the <see cref="GatewayHealthBook"/> and status through <see cref="LinkProbeStatusWriter"/>.
/// </summary>
internal sealed partial class ProbeWorker(
    string linkName, string targetCluster, ProbeSettings settings, WorkloadIdentity identity,
    GatewayHealthBook book, LinkProbeStatusWriter status, TimeProvider time, Random random, ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var verdict = new ProbeVerdict(settings.FailureThreshold);
        var latencies = new LatencyWindow();
        using var client = CreateClient();
        var uri = new Uri($"https://{settings.Address}{settings.Path}");
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var started = time.GetTimestamp();
                var (ok, error) = await ProbeOnceAsync(client, uri, cancellationToken).ConfigureAwait(false);
                var elapsed = time.GetElapsedTime(started);
                if (ok)
                    latencies.Add(elapsed);
                var wasAlive = verdict.Alive;
                if (verdict.Record(ok))
                {
                    book.Report(targetCluster, verdict.Alive!.Value);
                    if (verdict.Alive == false)
                        LogDead(logger, targetCluster, settings.Address, verdict.Failures, error ?? "");
                    else if (wasAlive == false)
                        LogAlive(logger, targetCluster, settings.Address);
                }
                if (verdict.Alive is { } alive)
                    await ReportAsync(alive, latencies, cancellationToken).ConfigureAwait(false);
                // After a failure, probe again right away (the timeout already spaced it); otherwise wait a jittered period.
                var wait = ok || verdict.Alive == false ? Jittered(settings.Period) - elapsed : TimeSpan.FromMilliseconds(50);
                if (wait > TimeSpan.Zero)
                    await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task ReportAsync(bool alive, LatencyWindow latencies, CancellationToken cancellationToken)
    {
        try
        {
            await status.ReportAsync(linkName, alive, time.GetUtcNow(), latencies, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Status is best effort; the verdict already reached discovery. The next change retries.
            LogStatusFailed(logger, linkName, e.Message);
        }
    }

    private async Task<(bool Ok, string? Error)> ProbeOnceAsync(HttpClient client, Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            // HTTP/1.1, as most of the data plane's requests: the gateway answers it on its socket loop's thread, where an
            // HTTP/2 request costs it a dozen thread-pool wake-ups (bench/dataplane/idle.sh), once a period per linked cluster.
            using var request = new HttpRequestMessage(HttpMethod.Get, uri) { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK ? (true, null) : (false, $"HTTP {(int)response.StatusCode}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, $"no answer within {settings.Timeout.TotalMilliseconds:0} ms");
        }
        catch (HttpRequestException e)
        {
            return (false, e.InnerException?.Message ?? e.Message);
        }
    }

    private HttpClient CreateClient() => new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = settings.Timeout,
        // A fresh connection now and then notices a gateway that restarted on the same port.
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
        SslOptions = identity.ClientOptions(string.IsNullOrEmpty(settings.Identity) ? null : settings.Identity),
    }) { Timeout = Timeout.InfiniteTimeSpan };

    private TimeSpan Jittered(TimeSpan period)
    {
        double factor;
        lock (random)
            factor = 0.9 + (random.NextDouble() * 0.2);
        return period * factor;
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "gateway of cluster {Cluster} at {Address} is not alive after {Failures} failed probes: {Error}")]
    private static partial void LogDead(ILogger logger, string cluster, string address, int failures, string error);

    [LoggerMessage(EventId = 502, Level = LogLevel.Debug, Message = "cannot write the probe status of link {Link}: {Error}")]
    private static partial void LogStatusFailed(ILogger logger, string link, string error);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "gateway of cluster {Cluster} at {Address} is alive again")]
    private static partial void LogAlive(ILogger logger, string cluster, string address);
}
