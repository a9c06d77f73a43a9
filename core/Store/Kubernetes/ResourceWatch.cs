using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using FedMesh.Core.Resources;
using Microsoft.Extensions.Logging;
using Polly;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// List-then-watch for one kind, as an informer does: list, emit every object and Synced, then watch
/// from the list's resourceVersion with bookmarks. A watch the server ends (timeout) resumes from the
/// last resourceVersion seen; a 410 Gone lists again and emits only what differs from what was already
/// emitted, so no change is missed or repeated. Other failures are retried with exponential backoff and
/// jitter (Polly); 401/403 end the watch with <see cref="StoreForbiddenException"/> for the caller to report.
/// </summary>
internal sealed class ResourceWatch(IWatchableKind adapter, string cluster, string? @namespace, KubernetesStoreOptions options)
{
    private readonly Dictionary<(string, string), Resource> _known = new();
    private string? _resourceVersion;
    private bool _synced;

    public async IAsyncEnumerable<WatchEvent<Resource>> RunAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<WatchEvent<Resource>>(new BoundedChannelOptions(1024) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(() => ProduceAsync(channel.Writer, stop.Token), CancellationToken.None);
        try
        {
            while (true)
            {
                bool more;
                try
                {
                    more = await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (ChannelClosedException e) when (e.InnerException is not null)
                {
                    ExceptionDispatchInfo.Throw(e.InnerException);
                    throw;
                }
                if (!more) yield break;
                while (channel.Reader.TryRead(out var e))
                    yield return e;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await producer.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task ProduceAsync(ChannelWriter<WatchEvent<Resource>> writer, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            var pipeline = BuildRetry();
            while (!cancellationToken.IsCancellationRequested)
                await pipeline.ExecuteAsync(async ct => await SessionAsync(writer, ct).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        writer.TryComplete(failure);
    }

    /// <summary>One list (when needed) and one watch request. Returns when the server ends the watch or on 410.</summary>
    private async Task SessionAsync(ChannelWriter<WatchEvent<Resource>> writer, CancellationToken cancellationToken)
    {
        if (_resourceVersion is null)
            await ListAsync(writer, cancellationToken).ConfigureAwait(false);
        var timeout = (int)Math.Ceiling(options.WatchTimeout.TotalSeconds);
        var started = options.TimeProvider.GetTimestamp();
        var events = 0;
        try
        {
            await foreach (var e in adapter.WatchAsync(@namespace, _resourceVersion!, timeout, cancellationToken).ConfigureAwait(false))
            {
                events++;
                await ApplyAsync(e, writer, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (ResourceExpiredException e)
        {
            options.Logger?.LogInformation("{Kind} watch of cluster '{Cluster}': {Reason}; listing again", adapter.Kind.Plural, cluster, e.Message);
            _resourceVersion = null;
            return;
        }
        // A server that ends watches at once with nothing to say would make this loop spin: back off instead.
        if (events == 0 && options.TimeProvider.GetElapsedTime(started) < options.WatchTimeout / 2)
            throw new IOException($"the API server of cluster '{cluster}' ended the {adapter.Kind.Plural} watch after {options.TimeProvider.GetElapsedTime(started).TotalMilliseconds:0} ms without any event (asked for {timeout} s)");
    }

    private async Task ListAsync(ChannelWriter<WatchEvent<Resource>> writer, CancellationToken cancellationToken)
    {
        var page = await adapter.ListAsync(@namespace, cancellationToken).ConfigureAwait(false);
        var seen = new HashSet<(string, string)>();
        foreach (var item in page.Items)
        {
            var key = (item.Namespace, item.Name);
            seen.Add(key);
            if (_known.TryGetValue(key, out var old) && old.Metadata.ResourceVersion == item.Metadata.ResourceVersion)
                continue;
            _known[key] = item;
            await writer.WriteAsync(new(old is null ? WatchEventType.Added : WatchEventType.Modified, item), cancellationToken).ConfigureAwait(false);
        }
        foreach (var key in _known.Keys.Where(k => !seen.Contains(k)).ToList())
        {
            var gone = _known[key];
            _known.Remove(key);
            await writer.WriteAsync(new(WatchEventType.Deleted, gone), cancellationToken).ConfigureAwait(false);
        }
        if (!_synced)
        {
            _synced = true;
            await writer.WriteAsync(new(WatchEventType.Synced, null), cancellationToken).ConfigureAwait(false);
        }
        _resourceVersion = page.ResourceVersion;
    }

    private async Task ApplyAsync(RawWatchEvent e, ChannelWriter<WatchEvent<Resource>> writer, CancellationToken cancellationToken)
    {
        if (e.Object is { } item)
        {
            var key = (item.Namespace, item.Name);
            _known.TryGetValue(key, out var old);
            if (e.Type == k8s.WatchEventType.Deleted)
            {
                if (old is not null)
                {
                    _known.Remove(key);
                    await writer.WriteAsync(new(WatchEventType.Deleted, item), cancellationToken).ConfigureAwait(false);
                }
            }
            else if (old is null || old.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
            {
                _known[key] = item;
                await writer.WriteAsync(new(old is null ? WatchEventType.Added : WatchEventType.Modified, item), cancellationToken).ConfigureAwait(false);
            }
        }
        if (!string.IsNullOrEmpty(e.ResourceVersion))
            _resourceVersion = e.ResourceVersion;
    }

    private ResiliencePipeline BuildRetry() =>
        new ResiliencePipelineBuilder { TimeProvider = options.TimeProvider }
            .AddRetry(new Polly.Retry.RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsRetryable(e, args.Context.CancellationToken)),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.RetryMaxDelay,
                MaxRetryAttempts = int.MaxValue,
                OnRetry = args =>
                {
                    options.Logger?.LogWarning(args.Outcome.Exception, "{Kind} watch of cluster '{Cluster}' failed (attempt {Attempt}); retrying in {Delay}", adapter.Kind.Plural, cluster, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    private static bool IsRetryable(Exception e, CancellationToken cancellationToken) => e switch
    {
        StoreForbiddenException => false,
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        ArgumentException => false,
        _ => true,
    };
}
