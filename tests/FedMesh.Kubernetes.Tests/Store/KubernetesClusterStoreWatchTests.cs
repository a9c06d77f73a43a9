using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using static FedMesh.Kubernetes.Tests.Store.StoreFixture;

namespace FedMesh.Kubernetes.Tests.Store;

public sealed class KubernetesClusterStoreWatchTests
{
    [Fact]
    public async Task Watch_ExistingObjects_AddedThenSyncedThenChanges()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        await store.CreateAsync(Svc("a"));
        await using var watch = store.WatchAsync<Service>().GetAsyncEnumerator();
        var events = await CollectAsync(watch, [], e => e.Any(x => x.Type == WatchEventType.Synced));
        Assert.Equal("Added a, Synced", string.Join(", ", events.Select(e => e.Object is null ? "Synced" : $"{e.Type} {e.Object.Name}")));

        await store.CreateAsync(Svc("b"));
        await store.DeleteAsync<Service>("default", "a");
        events = await CollectAsync(watch, [], e => e.Count == 2);
        Assert.Equal("Added b, Deleted a", string.Join(", ", events.Select(e => $"{e.Type} {e.Object!.Name}")));
    }

    [Fact]
    public async Task Watch_ServerEndsStreamsBetweenChanges_ResumesWithoutMissingOrDuplicating()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        await using var watch = store.WatchAsync<Service>().GetAsyncEnumerator();
        await CollectAsync(watch, [], e => e.Any(x => x.Type == WatchEventType.Synced));
        var requestsBefore = server.WatchRequests;

        var seen = new List<WatchEvent<Service>>();
        for (var i = 0; i < 5; i++)
        {
            await store.CreateAsync(Svc($"s{i}"));
            server.EndAllWatches();
            await store.MutateAsync<Service>("default", $"s{i}", s => { s!.Spec.Ports[0].Port = 9000 + i; return s; });
            if (i > 0) await store.DeleteAsync<Service>("default", $"s{i - 1}");
            server.EndAllWatches();
        }
        await CollectAsync(watch, seen, e => e.Count >= 14);

        var expected = Enumerable.Range(0, 5).SelectMany(i => i == 0
            ? new[] { "Added s0", "Modified s0" }
            : new[] { $"Added s{i}", $"Modified s{i}", $"Deleted s{i - 1}" });
        Assert.Equal(expected, seen.Select(e => $"{e.Type} {e.Object!.Name}"));
        Assert.True(server.WatchRequests > requestsBefore, "the watch should have been resumed by new watch requests");
    }

    [Fact]
    public async Task Watch_HistoryCompactedWhileDisconnected_RelistsAndEmitsOnlyDifferences()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server);
        await store.CreateAsync(Svc("a"));
        await store.CreateAsync(Svc("b"));
        await store.CreateAsync(Svc("keep"));
        await using var watch = store.WatchAsync<Service>().GetAsyncEnumerator();
        await CollectAsync(watch, [], e => e.Any(x => x.Type == WatchEventType.Synced));

        using (server.HoldWatches())
        {
            server.EndAllWatches();
            await store.MutateAsync<Service>("default", "b", s => { s!.Spec.Ports[0].Port = 81; return s; });
            await store.DeleteAsync<Service>("default", "a");
            await store.CreateAsync(Svc("c"));
            server.Compact();
        }
        var seen = await CollectAsync(watch, [], e => e.Count >= 3);
        await store.MutateAsync<Service>("default", "c", s => { s!.Spec.Ports[0].Port = 82; return s; });
        await CollectAsync(watch, seen, e => e.Count >= 4);

        // The relist walks the list in name order (b changed, c new, keep unchanged), then what vanished (a).
        Assert.Equal(["Modified b", "Added c", "Deleted a", "Modified c"], seen.Select(e => $"{e.Type} {e.Object!.Name}"));
        Assert.Equal(82, seen[3].Object!.Spec.Ports[0].Port);
    }

    [Fact]
    public async Task Watch_TokenMayNotReadServices_ThrowsForbidden()
    {
        await using var server = await StartAsync();
        server.AddToken("links-only", new ApiServer.AccessRule(["get", "list", "watch"], ["fedmesh.io"], ["links"]));
        using var store = OpenStore(server, "links-only");

        var list = await Assert.ThrowsAsync<StoreForbiddenException>(() => store.ListAsync<Service>());
        Assert.Equal(403, list.StatusCode);
        Assert.Contains("cannot list resource \"services\"", list.Message);
        await using var watch = store.WatchAsync<Service>().GetAsyncEnumerator();
        var e = await Assert.ThrowsAsync<StoreForbiddenException>(async () => await watch.MoveNextAsync().AsTask().WaitAsync(Deadline));
        Assert.Contains("forbidden", e.Message);
        Assert.Empty(await store.ListAsync<Link>());
    }

    [Fact]
    public async Task Watch_UnknownToken_ThrowsForbiddenWith401()
    {
        await using var server = await StartAsync();
        using var store = OpenStore(server, "expired");
        var e = await Assert.ThrowsAsync<StoreForbiddenException>(() => store.ListAsync<Link>());
        Assert.Equal(401, e.StatusCode);
    }
}
