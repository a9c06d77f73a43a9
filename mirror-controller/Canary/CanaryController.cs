using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Canary;

/// <summary>
/// Drives every progressive canary of this cluster: on each tick it reads the TrafficSplits with an
/// analysis, asks <see cref="CanaryRollout"/> what is due and writes the new status by compare-and-swap.
/// Routes follow through the discovery model, which watches the same objects.
/// </summary>
internal sealed partial class CanaryController(IClusterStore store, CanaryRollout rollout, CanaryOptions options, TimeProvider time, ILogger<CanaryController> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Stats from before this process started are gone; checks wait until a whole interval was collected.
        var collectingSince = time.GetUtcNow();
        using var timer = new PeriodicTimer(options.TickPeriod, time);
        do
        {
            try
            {
                await TickAsync(collectingSince, stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The store may be briefly unreachable; the next tick reads everything again.
                TickFailed(logger, e.Message, e);
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    internal async Task TickAsync(DateTimeOffset collectingSince, CancellationToken cancellationToken)
    {
        foreach (var split in await store.ListAsync<TrafficSplit>(null, cancellationToken).ConfigureAwait(false))
        {
            if (split.Spec.Analysis is null || rollout.Next(split, store.Cluster, collectingSince) is null)
                continue;
            string? phase = null, analysis = null;
            await store.MutateAsync<TrafficSplit>(split.Namespace, split.Name, current =>
            {
                // Re-decide on what is stored now: someone may have changed the split since it was listed.
                if (current is null) return null;
                var next = rollout.Next(current, store.Cluster, collectingSince);
                if (next is null) return current;
                current.Status = next;
                (phase, analysis) = (next.Phase, next.History?[^1]);
                return current;
            }, cancellationToken).ConfigureAwait(false);
            if (phase is not null)
                RolloutAdvanced(logger, split.Namespace, split.Name, phase, analysis ?? "");
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try { return await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false); }
        catch (OperationCanceledException) { return false; }
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Canary {Namespace}/{Name} {Phase}: {What}")]
    private static partial void RolloutAdvanced(ILogger logger, string @namespace, string name, string phase, string what);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Canary rollouts could not be advanced this tick: {Reason}; retrying on the next tick")]
    private static partial void TickFailed(ILogger logger, string reason, Exception exception);
}
