using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Local;

namespace FedMesh.Core.Tests.Store;

public sealed class LocalClusterStoreWatchTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task WatchAsync_ExistingObjects_AddedThenSynced()
    {
        using var store = new LocalClusterStore("east", _dir.Path);
        await store.CreateAsync(Objects.Service("a"));
        await store.CreateAsync(Objects.Service("b", "other"));
        await using var watch = new WatchProbe<Service>(store);
        var initial = await watch.UntilSyncedAsync();
        Assert.All(initial, e => Assert.Equal(WatchEventType.Added, e.Type));
        Assert.Equal(["default/a", "other/b"], initial.Select(e => $"{e.Object!.Namespace}/{e.Object.Name}").ToArray());
    }

    [Fact]
    public async Task WatchAsync_Notifications_SeeCreateUpdateDeleteFromAnotherInstanceQuickly()
    {
        // A resync period of an hour: only file notifications can deliver these events in time.
        using var store = new LocalClusterStore("east", _dir.Path, resyncPeriod: TimeSpan.FromHours(1));
        using var writer = new LocalClusterStore("east", _dir.Path);
        await using var watch = new WatchProbe<Service>(store);
        Assert.Empty(await watch.UntilSyncedAsync());

        var created = await writer.CreateAsync(Objects.Service("web", "shop"));
        var added = await watch.NextAsync(TimeSpan.FromSeconds(3));
        Assert.Equal((WatchEventType.Added, "web", "1"), (added.Type, added.Object!.Name, added.Object.Metadata.ResourceVersion));

        created.Spec.Ports[0].Port = 9090;
        await writer.UpdateAsync(created);
        var modified = await watch.NextAsync(TimeSpan.FromSeconds(3));
        Assert.Equal((WatchEventType.Modified, 9090), (modified.Type, modified.Object!.Spec.Ports[0].Port));

        await writer.DeleteAsync<Service>("shop", "web");
        var deleted = await watch.NextAsync(TimeSpan.FromSeconds(3));
        Assert.Equal((WatchEventType.Deleted, "web"), (deleted.Type, deleted.Object!.Name));
    }

    [Fact]
    public async Task WatchAsync_NotificationsLost_ResyncRecoversOnlyRealDifferences()
    {
        using var store = new LocalClusterStore("east", _dir.Path, resyncPeriod: TimeSpan.FromMilliseconds(100)) { FileNotificationsEnabled = false };
        using var writer = new LocalClusterStore("east", _dir.Path);
        var kept = await writer.CreateAsync(Objects.Service("kept"));
        var changed = await writer.CreateAsync(Objects.Service("changed"));
        await writer.CreateAsync(Objects.Service("gone"));
        await using var watch = new WatchProbe<Service>(store);
        Assert.Equal(3, (await watch.UntilSyncedAsync()).Count);

        changed.Spec.Ports[0].Port = 7070;
        await writer.UpdateAsync(changed);
        await writer.DeleteAsync<Service>("default", "gone");
        await writer.CreateAsync(Objects.Service("fresh", "new-namespace"));

        var events = new List<WatchEvent<Service>> { await watch.NextAsync(), await watch.NextAsync(), await watch.NextAsync() };
        Assert.Contains(events, e => e.Type == WatchEventType.Modified && e.Object!.Name == "changed" && e.Object.Spec.Ports[0].Port == 7070);
        Assert.Contains(events, e => e.Type == WatchEventType.Deleted && e.Object!.Name == "gone");
        Assert.Contains(events, e => e.Type == WatchEventType.Added && e.Object!.Name == "fresh");
        await Assert.ThrowsAsync<TimeoutException>(() => watch.NextAsync(TimeSpan.FromMilliseconds(500)));
        Assert.Equal("1", kept.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task WatchAsync_UnreadableFile_IsSkippedAndWatchContinues()
    {
        using var store = new LocalClusterStore("east", _dir.Path, resyncPeriod: TimeSpan.FromMilliseconds(100));
        await using var watch = new WatchProbe<Service>(store, "default");
        await watch.UntilSyncedAsync();
        File.WriteAllText(Path.Combine(_dir.Path, "services", "default", "bad.yaml"), "kind: Service\nspec: {ports: [\n");
        await store.CreateAsync(Objects.Service("good"));
        var next = await watch.NextAsync();
        Assert.Equal((WatchEventType.Added, "good"), (next.Type, next.Object!.Name));
        await Assert.ThrowsAsync<TimeoutException>(() => watch.NextAsync(TimeSpan.FromMilliseconds(400)));
    }

    [Fact]
    public async Task WatchAsync_DirectoryMissing_CreatesItAndCancellationEndsCleanly()
    {
        var root = Path.Combine(_dir.Path, "not-yet");
        using var store = new LocalClusterStore("east", root);
        var watch = new WatchProbe<FailoverPolicy>(store);
        Assert.Empty(await watch.UntilSyncedAsync());
        Assert.True(Directory.Exists(Path.Combine(root, "failoverpolicies")));
        watch.Stop();
        await watch.Completion.WaitAsync(TimeSpan.FromSeconds(5));
        await watch.DisposeAsync();
    }
}
