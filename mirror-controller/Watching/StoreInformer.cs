using System.Runtime.CompilerServices;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Watching;

/// <summary>
/// List-then-watch over one kind of one store (or any sequence with the store's watch contract), restarted with
/// backoff when the store cannot be opened or the watch breaks. Every (re)list is handed over as one complete set,
/// so the handler never has to guess what disappeared while the watch was down.
/// </summary>
internal sealed partial class StoreInformer<T>(
    string description,
    Func<CancellationToken, IAsyncEnumerable<WatchEvent<T>>> watch,
    IInformerHandler<T> handler,
    Backoff backoff,
    TimeProvider time,
    ILogger logger) where T : Resource
{
    /// <summary>Watches <typeparamref name="T"/> in <paramref name="namespace"/> (null: all) of the store <paramref name="openStore"/> opens.</summary>
    public StoreInformer(
        string description,
        Func<CancellationToken, ValueTask<IClusterStore>> openStore,
        string? @namespace,
        IInformerHandler<T> handler,
        Backoff backoff,
        TimeProvider time,
        ILogger logger)
        : this(description, ct => WatchStoreAsync(openStore, @namespace, ct), handler, backoff, time, logger)
    {
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var attempt = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await WatchAsync(() => attempt = 0, cancellationToken).ConfigureAwait(false);
                throw new IOException($"the watch of {description} ended unexpectedly");
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                var delay = backoff.Delay(attempt++);
                LogWatchFailed(logger, description, delay.TotalMilliseconds, error.Message, error);
                try
                {
                    await handler.OnErrorAsync(error, cancellationToken).ConfigureAwait(false);
                    await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private static async IAsyncEnumerable<WatchEvent<T>> WatchStoreAsync(Func<CancellationToken, ValueTask<IClusterStore>> openStore, string? @namespace, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var store = await openStore(cancellationToken).ConfigureAwait(false);
        await foreach (var change in store.WatchAsync<T>(@namespace, cancellationToken).ConfigureAwait(false))
            yield return change;
    }

    private async Task WatchAsync(Action onSynced, CancellationToken cancellationToken)
    {
        Dictionary<string, T>? initial = new(StringComparer.Ordinal);
        await foreach (var change in watch(cancellationToken).ConfigureAwait(false))
        {
            if (initial is not null)
            {
                // Still listing: collect, then hand over the whole set at the Synced marker.
                switch (change.Type)
                {
                    case WatchEventType.Synced:
                        var items = initial.Values.OrderBy(r => r.Namespace, StringComparer.Ordinal).ThenBy(r => r.Name, StringComparer.Ordinal).ToList();
                        initial = null;
                        onSynced();
                        await handler.OnSyncedAsync(items, cancellationToken).ConfigureAwait(false);
                        break;
                    case WatchEventType.Deleted:
                        initial.Remove(Key(change.Object!));
                        break;
                    default:
                        initial[Key(change.Object!)] = change.Object!;
                        break;
                }
                continue;
            }

            switch (change.Type)
            {
                case WatchEventType.Added or WatchEventType.Modified:
                    await handler.OnUpsertAsync(change.Object!, cancellationToken).ConfigureAwait(false);
                    break;
                case WatchEventType.Deleted:
                    await handler.OnDeleteAsync(change.Object!, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    private static string Key(Resource r) => r.Namespace + "/" + r.Name;

    [LoggerMessage(EventId = 100, Level = LogLevel.Warning, Message = "Watching {Description} failed, retrying in {DelayMs:F0} ms: {Reason}")]
    private static partial void LogWatchFailed(ILogger logger, string description, double delayMs, string reason, Exception error);
}
