using FedMesh.Core.Common;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Discovery;
using FedMesh.MirrorController.Hosting;
using FedMesh.MirrorController.Watching;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Canary;

/// <summary>
/// Drives every progressive canary of this cluster. It watches the TrafficSplits (no polling: a cluster without a
/// rollout in progress costs it nothing) and wakes when one changes or when the earliest step of a rollout is due
/// (<see cref="CanaryRollout.DueAt"/>); then it asks <see cref="CanaryRollout"/> for that split's next status on the
/// stored object and writes it by compare-and-swap. Routes follow through the discovery model, which watches the same
/// objects.
/// </summary>
internal sealed partial class CanaryController(
    IClusterStore store, CanaryRollout rollout, CanaryOptions options, MirrorControllerOptions controllerOptions, TimeProvider time,
    ILogger<CanaryController> logger) : BackgroundService
{
    private readonly WakeSignal _changed = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Stats from before this process started are gone; checks wait until a whole interval was collected.
        var collectingSince = time.GetUtcNow();
        var splits = new ResourceSet<TrafficSplit>(_changed.Set);
        var backoff = new Backoff(TimeSpan.FromMilliseconds(200), controllerOptions.WatchRetryMaxDelay, Random.Shared);
        var watch = new StoreInformer<TrafficSplit>($"traffic splits of cluster '{store.Cluster}' (canaries)",
            _ => ValueTask.FromResult(store), null, splits, backoff, time, logger).RunAsync(stoppingToken);
        await Task.WhenAll(watch, RunAsync(splits, collectingSince, stoppingToken)).ConfigureAwait(false);
    }

    private async Task RunAsync(ResourceSet<TrafficSplit> splits, DateTimeOffset collectingSince, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                TimeSpan? wait = null;
                if (splits.Synced)
                {
                    try
                    {
                        wait = await TickAsync(splits.Items.Values, collectingSince, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (!cancellationToken.IsCancellationRequested)
                    {
                        // The store may be briefly unreachable; try again a little later.
                        TickFailed(logger, e.Message, options.RetryPeriod.TotalMilliseconds, e);
                        wait = options.RetryPeriod;
                    }
                }
                // Until a split changes, or the next step is due.
                await _changed.WaitAsync(wait, time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Advances every split that is due; returns how long until the next one is (null: none is ever, until a change).</summary>
    internal async Task<TimeSpan?> TickAsync(IEnumerable<TrafficSplit> splits, DateTimeOffset collectingSince, CancellationToken cancellationToken)
    {
        DateTimeOffset? next = null;
        foreach (var known in splits)
        {
            var due = CanaryRollout.DueAt(known, collectingSince);
            if (due is { } at && at <= time.GetUtcNow())
            {
                var stored = await AdvanceAsync(known.Namespace, known.Name, collectingSince, cancellationToken).ConfigureAwait(false);
                due = stored is null ? null : CanaryRollout.DueAt(stored, collectingSince);
            }
            if (due is { } d && (next is null || d < next))
                next = d;
        }
        if (next is not { } earliest)
            return null;
        var wait = earliest - time.GetUtcNow();
        return wait > MinimumWait ? wait : MinimumWait; // due already: a few ms more, not a busy loop
    }

    /// <summary>
    /// Writes the next status of the split as stored now (the watched copy may be older, for instance just after this
    /// controller's own write), retrying on conflict; writes nothing when nothing is due. Returns the stored split.
    /// </summary>
    private async Task<TrafficSplit?> AdvanceAsync(string @namespace, string name, DateTimeOffset collectingSince, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var current = await store.GetAsync<TrafficSplit>(@namespace, name, cancellationToken).ConfigureAwait(false);
            if (current is null || rollout.Next(current, store.Cluster, collectingSince) is not { } status)
                return current;
            current.Status = status;
            try
            {
                var stored = await store.UpdateAsync(current, cancellationToken).ConfigureAwait(false);
                RolloutAdvanced(logger, @namespace, name, status.Phase ?? "", status.History is { Count: > 0 } h ? h[^1] : "");
                return stored;
            }
            catch (StoreConflictException) when (attempt < MaxAttempts)
            {
                // Someone changed the split since it was read: decide again on what is stored now.
            }
        }
    }

    private const int MaxAttempts = 16;
    private static readonly TimeSpan MinimumWait = TimeSpan.FromMilliseconds(10);

    public override void Dispose()
    {
        base.Dispose();
        _changed.Dispose();
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Canary {Namespace}/{Name} {Phase}: {What}")]
    private static partial void RolloutAdvanced(ILogger logger, string @namespace, string name, string phase, string what);

    [LoggerMessage(EventId = 401, Level = LogLevel.Warning, Message = "Canary rollouts could not be advanced: {Reason}; retrying in {RetryMs} ms")]
    private static partial void TickFailed(ILogger logger, string reason, double retryMs, Exception exception);
}
