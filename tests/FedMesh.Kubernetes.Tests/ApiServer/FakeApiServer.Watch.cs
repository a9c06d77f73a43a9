using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace FedMesh.Kubernetes.Tests.ApiServer;

internal sealed partial class FakeApiServer
{
    /// <summary>
    /// Streams one JSON event per line until timeoutSeconds, <see cref="EndAllWatches"/> or the client leaves.
    /// A resourceVersion older than the history gets an ERROR event carrying a 410 Expired Status, as the
    /// real API server sends it. Bookmarks carry the server's current resourceVersion, and only when every
    /// event up to it has been sent.
    /// </summary>
    private async Task WatchAsync(HttpContext context, ApiPath path, LabelSelector selector)
    {
        Interlocked.Increment(ref _watchRequests);
        // Before the hold: a request that gets past the hold just before HoldWatches must still be ended by an
        // EndAllWatches that follows it (the tests hold, then end), or it would stream live through the "outage".
        var endAll = Volatile.Read(ref _endWatches).Token;
        if (Volatile.Read(ref _held) is { } held)
            await held.Task.WaitAsync(context.RequestAborted).ConfigureAwait(false);
        var query = context.Request.Query;
        var from = long.TryParse(query["resourceVersion"], NumberStyles.None, CultureInfo.InvariantCulture, out var rv) && rv > 0 ? rv : (long?)null;
        var timeout = int.TryParse(query["timeoutSeconds"], NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds > 0 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromMinutes(30);
        var bookmarks = query["allowWatchBookmarks"] == "true";

        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        Subscription subscription;
        try
        {
            subscription = Objects.Subscribe(path, selector, from);
        }
        catch (ApiError e)
        {
            await SendAsync(context, "ERROR", e.ToStatus()).ConfigureAwait(false);
            return;
        }

        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, endAll);
        end.CancelAfter(timeout);
        try
        {
            await context.Response.StartAsync(end.Token).ConfigureAwait(false);
            while (!end.IsCancellationRequested)
            {
                while (subscription.Events.TryRead(out var e))
                    await SendAsync(context, e.Type, e.Object).ConfigureAwait(false);
                if (bookmarks && Objects.BookmarkVersion(subscription) is { } version)
                    await SendAsync(context, "BOOKMARK", Bookmark(path, version)).ConfigureAwait(false);
                try
                {
                    await subscription.Events.WaitToReadAsync(end.Token).AsTask().WaitAsync(BookmarkInterval, end.Token).ConfigureAwait(false);
                }
                catch (TimeoutException)
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Objects.Unsubscribe(subscription);
        }
    }

    private TaskCompletionSource? _held;

    /// <summary>Holds new watch requests (as a partitioned or restarting server) until the returned handle is disposed.</summary>
    public IDisposable HoldWatches()
    {
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _held, held);
        return new Release(() => { Volatile.Write(ref _held, null); held.TrySetResult(); });
    }

    private sealed class Release(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    private static JsonObject Bookmark(ApiPath path, long version) => new()
    {
        ["kind"] = "Bookmark",
        ["apiVersion"] = path.Group.Length == 0 ? path.Version : $"{path.Group}/{path.Version}",
        ["metadata"] = new JsonObject { ["resourceVersion"] = version.ToString(CultureInfo.InvariantCulture) },
    };

    private static async Task SendAsync(HttpContext context, string type, JsonObject obj)
    {
        var line = new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString() + "\n";
        await context.Response.WriteAsync(line, Encoding.UTF8, context.RequestAborted).ConfigureAwait(false);
        await context.Response.Body.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }
}
