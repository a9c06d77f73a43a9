using FedMesh.Core.Store;
using FedMesh.MirrorController.Watching;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Mirroring;

/// <summary>
/// The one consumer of the <see cref="MirrorQueue"/>: hands each event to its handler, one at a time.
/// A failed event comes back with backoff until it has failed <c>maxAttempts</c> times; then it is
/// dropped and logged, and the periodic repair pass puts things right.
/// </summary>
internal sealed partial class MirrorDispatcher(
    MirrorQueue queue,
    LinkEventHandler links,
    RemoteServiceEventHandler remote,
    MirrorWorkHandler work,
    LinkStatusHandler status,
    Backoff retryBackoff,
    int maxAttempts,
    ILogger logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var reader = queue.Reader;
        try
        {
            while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (reader.TryRead(out var item))
                {
                    queue.MarkTaken(item.Event);
                    try
                    {
                        await DispatchAsync(item.Event, cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        return;
                    }
                    catch (Exception error) when (IsRetryable(error) && item.Attempt + 1 < maxAttempts)
                    {
                        var delay = retryBackoff.Delay(item.Attempt);
                        LogRetrying(logger, item.Event.ToString(), item.Attempt + 1, delay.TotalMilliseconds, error.Message);
                        queue.Requeue(item, delay, cancellationToken);
                    }
                    catch (Exception error)
                    {
                        LogDropped(logger, item.Event.ToString(), item.Attempt + 1, error.Message, error);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private Task DispatchAsync(MirrorEvent mirrorEvent, CancellationToken cancellationToken)
    {
        switch (mirrorEvent)
        {
            case LinksSynced e: links.Handle(e, cancellationToken); break;
            case LinkUpserted e: links.Handle(e, cancellationToken); break;
            case LinkDeleted e: links.Handle(e); break;
            case RemoteServicesSynced e: remote.Handle(e); break;
            case RemoteServiceUpserted e: remote.Handle(e); break;
            case RemoteServiceDeleted e: remote.Handle(e); break;
            case RemoteWatchFailed e: remote.Handle(e); break;
            case ReconcileMirror e: return work.HandleAsync(e, cancellationToken);
            case ReconcileCluster e: return work.HandleAsync(e, cancellationToken);
            case RepairRequested e: return work.HandleAsync(e, cancellationToken);
            case RefreshLinkStatus e: return status.HandleAsync(e, cancellationToken);
            default: throw new NotSupportedException($"no handler for {mirrorEvent.GetType().Name}");
        }
        return Task.CompletedTask;
    }

    /// <summary>Store and I/O trouble passes; programming errors do not get better by retrying.</summary>
    private static bool IsRetryable(Exception error) => error switch
    {
        StoreConflictException or StoreNotFoundException or IOException or TimeoutException or UnauthorizedAccessException => true,
        ArgumentException or NotSupportedException or NullReferenceException or InvalidCastException => false,
        _ => true,
    };

    [LoggerMessage(EventId = 230, Level = LogLevel.Warning, Message = "{Event} failed (attempt {Attempt}), retrying in {DelayMs:F0} ms: {Reason}")]
    private static partial void LogRetrying(ILogger logger, string @event, int attempt, double delayMs, string reason);

    [LoggerMessage(EventId = 231, Level = LogLevel.Error, Message = "{Event} failed {Attempt} times and was dropped; the next repair pass retries it: {Reason}")]
    private static partial void LogDropped(ILogger logger, string @event, int attempt, string reason, Exception error);
}
