using System.Diagnostics;
using System.Globalization;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Local;
using FedMesh.Tests.Shared;

namespace FedMesh.Core.Tests.Store;

public sealed class LocalClusterStoreConcurrencyTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task MutateAsync_ConcurrentWritersOnTwoInstances_LoseNoUpdate()
    {
        using var a = new LocalClusterStore("east", _dir.Path);
        using var b = new LocalClusterStore("east", _dir.Path);
        await a.CreateAsync(Objects.Service("counter"));

        var writers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var store = i % 2 == 0 ? a : b;
            for (var n = 0; n < 25; n++)
                await store.MutateAsync<Service>("default", "counter", s =>
                {
                    var count = int.Parse(s!.Metadata.Label("count") ?? "0", CultureInfo.InvariantCulture);
                    s.Metadata.Labels ??= new();
                    s.Metadata.Labels["count"] = (count + 1).ToString(CultureInfo.InvariantCulture);
                    return s;
                }, maxAttempts: 1000);
        })).ToArray();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60));

        var final = await b.GetAsync<Service>("default", "counter");
        Assert.Equal("200", final!.Metadata.Label("count"));
        Assert.Equal("201", final.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task UpdateAsync_LockHeldByAnotherProcess_WaitsForItsRelease()
    {
        using var store = new LocalClusterStore("east", _dir.Path);
        var created = await store.CreateAsync(Objects.Service("web"));
        var lockPath = Path.Combine(_dir.Path, ".locks", "services", "default", "web.lock");
        var release = Path.Combine(_dir.Path, "release");

        // flock(1) takes the same kernel lock the store takes, from a separate OS process.
        using var holder = Process.Start(new ProcessStartInfo("flock", ["-x", lockPath, "sh", "-c", $"touch '{lockPath}.held'; while [ ! -e '{release}' ]; do sleep 0.02; done"])
        { UseShellExecute = false })!;
        try
        {
            await Eventually.TrueAsync(() => File.Exists(lockPath + ".held"), "the other process to hold the lock");
            var update = store.UpdateAsync(created);
            await Task.WhenAny(update, Task.Delay(300));
            Assert.False(update.IsCompleted, "the update must wait while another process holds the object's lock");
            File.WriteAllText(release, "");
            var updated = await update.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal("2", updated.Metadata.ResourceVersion);
        }
        finally
        {
            File.WriteAllText(release, "");
            await holder.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task UpdateAsync_LockNeverReleased_TimesOutWithGuidance()
    {
        using var store = new LocalClusterStore("east", _dir.Path) { LockTimeout = TimeSpan.FromMilliseconds(200) };
        var created = await store.CreateAsync(Objects.Service("web"));
        var lockPath = Path.Combine(_dir.Path, ".locks", "services", "default", "web.lock");
        using (new FileStream(lockPath, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            var e = await Assert.ThrowsAsync<TimeoutException>(() => store.UpdateAsync(created));
            Assert.Contains("web.lock", e.Message);
        }
        Assert.Equal("2", (await store.UpdateAsync(created)).Metadata.ResourceVersion);
    }

    [Fact]
    public async Task GetAsync_WriterCrashedLeavingPartialTempFile_ReturnsOldVersionAndTempIsCleanedLater()
    {
        using (var store = new LocalClusterStore("east", _dir.Path))
            await store.CreateAsync(Objects.Service("web"));
        var folder = Path.Combine(_dir.Path, "services", "default");
        var temp = Path.Combine(folder, ".web.yaml.3f2a.tmp");
        File.WriteAllText(temp, "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  resourceVer");
        File.SetLastWriteTimeUtc(temp, DateTime.UtcNow - TimeSpan.FromMinutes(5));

        using var reopened = new LocalClusterStore("east", _dir.Path);
        var web = await reopened.GetAsync<Service>("default", "web");
        Assert.Equal("1", web!.Metadata.ResourceVersion);
        Assert.Single(await reopened.ListAsync<Service>());
        Assert.False(File.Exists(temp), "a stale temp file is removed when the store opens");
    }

    [Fact]
    public async Task UpdateAsync_WriterProcessKilledMidLoop_FileIsOldOrNewNeverTorn()
    {
        using var store = new LocalClusterStore("east", _dir.Path);
        await store.CreateAsync(Objects.Service("web"));
        var path = Path.Combine(_dir.Path, "services", "default", "web.yaml");
        var good = await File.ReadAllTextAsync(path);
        var bigger = good.Replace("port: 8080", "port: 9090\n    - port: 9091\n    - port: 9092");
        // A separate process replaces the file the way the store does (temp, rename) in a tight loop
        // and is killed at an arbitrary moment; readers meanwhile must see a whole file every time.
        var script = $"i=0; while true; do t='{path}.'$i'.tmp'; printf '%s' \"$B\" > \"$t\"; mv \"$t\" '{path}'; i=$((i+1)); done";
        var psi = new ProcessStartInfo("sh", ["-c", script]) { UseShellExecute = false };
        psi.Environment["B"] = bigger;
        using var writer = Process.Start(psi)!;
        for (var i = 0; i < 200; i++)
        {
            var seen = await store.GetAsync<Service>("default", "web");
            Assert.Contains(seen!.Spec.Ports.Count, new[] { 1, 3 });
        }
        writer.Kill(entireProcessTree: true);
        await writer.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        var final = await store.GetAsync<Service>("default", "web");
        Assert.Contains(final!.Spec.Ports.Count, new[] { 1, 3 });
    }
}
