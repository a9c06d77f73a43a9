using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Store.Local;
using FedMesh.Core.Validation;

namespace FedMesh.Core.Tests.Store;

public sealed class LocalClusterStoreCrudTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly LocalClusterStore _store;

    public LocalClusterStoreCrudTests() => _store = new LocalClusterStore("east", _dir.Path);

    public void Dispose()
    {
        _store.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task CreateAsync_NewObject_WritesReadableFileWithVersionOne()
    {
        var created = await _store.CreateAsync(Objects.Service("web"));
        Assert.Equal("1", created.Metadata.ResourceVersion);
        Assert.Equal("default", created.Metadata.Namespace);
        Assert.NotNull(created.Metadata.CreationTimestamp);
        var text = File.ReadAllText(Path.Combine(_dir.Path, "services", "default", "web.yaml"));
        Assert.StartsWith("apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n", text);
        Assert.Contains("resourceVersion: \"1\"", text);
        var read = await _store.GetAsync<Service>("default", "web");
        Assert.Equal(8080, read!.Spec.Ports[0].Port);
    }

    [Fact]
    public async Task CreateAsync_KindWithOwnDefaultNamespace_UsesIt()
    {
        var link = new Link { Metadata = new ObjectMeta { Name = "west" }, Spec = new LinkSpec { TargetCluster = "west", Mirror = false } };
        await _store.CreateAsync(link);
        Assert.NotNull(await _store.GetAsync<Link>(WellKnown.SystemNamespace, "west"));
        Assert.Null(link.Metadata.ResourceVersion);   // the caller's object is left alone
    }

    [Fact]
    public async Task CreateAsync_Existing_ThrowsConflict()
    {
        await _store.CreateAsync(Objects.Service("web"));
        var e = await Assert.ThrowsAsync<StoreConflictException>(() => _store.CreateAsync(Objects.Service("web")));
        Assert.Contains("Service default/web already exists in cluster east", e.Message);
    }

    [Fact]
    public async Task CreateAsync_Invalid_ThrowsEveryErrorAndWritesNothing()
    {
        var e = await Assert.ThrowsAsync<ResourceValidationException>(() => _store.CreateAsync(Objects.Service("web", port: 0)));
        Assert.Contains(e.Errors, x => x.Path == "spec.ports[0].port");
        Assert.False(Directory.Exists(Path.Combine(_dir.Path, "services")) && Directory.EnumerateFiles(Path.Combine(_dir.Path, "services"), "*", SearchOption.AllDirectories).Any());
    }

    [Fact]
    public async Task UpdateAsync_CurrentVersion_IncrementsVersion()
    {
        var v1 = await _store.CreateAsync(Objects.Service("web"));
        v1.Spec.Ports[0].Port = 9090;
        var v2 = await _store.UpdateAsync(v1);
        Assert.Equal("2", v2.Metadata.ResourceVersion);
        Assert.Equal(v1.Metadata.CreationTimestamp, v2.Metadata.CreationTimestamp);
        Assert.Equal(9090, (await _store.GetAsync<Service>("default", "web"))!.Spec.Ports[0].Port);
    }

    [Fact]
    public async Task UpdateAsync_StaleVersion_ThrowsConflictAndKeepsStoredObject()
    {
        var v1 = await _store.CreateAsync(Objects.Service("web"));
        await _store.UpdateAsync(v1);
        v1.Spec.Ports[0].Port = 1;
        var e = await Assert.ThrowsAsync<StoreConflictException>(() => _store.UpdateAsync(v1));
        Assert.Contains("is at resourceVersion 2, but the update was based on 1", e.Message);
        Assert.Equal(8080, (await _store.GetAsync<Service>("default", "web"))!.Spec.Ports[0].Port);
    }

    [Fact]
    public async Task UpdateAsync_Missing_ThrowsNotFound()
        => await Assert.ThrowsAsync<StoreNotFoundException>(() => _store.UpdateAsync(Objects.Service("web")));

    [Fact]
    public async Task DeleteAsync_WithVersion_ChecksItAndRecreateNeverReusesVersions()
    {
        var v1 = await _store.CreateAsync(Objects.Service("web"));
        var v2 = await _store.UpdateAsync(v1);
        await Assert.ThrowsAsync<StoreConflictException>(() => _store.DeleteAsync<Service>("default", "web", "1"));
        Assert.True(await _store.DeleteAsync<Service>("default", "web", v2.Metadata.ResourceVersion));
        Assert.False(await _store.DeleteAsync<Service>("default", "web"));
        Assert.Null(await _store.GetAsync<Service>("default", "web"));
        var again = await _store.CreateAsync(Objects.Service("web"));
        Assert.Equal("3", again.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task ListAsync_SkipsUnreadableFilesAndOrdersByNamespaceThenName()
    {
        await _store.CreateAsync(Objects.Service("b", "zeta"));
        await _store.CreateAsync(Objects.Service("b"));
        await _store.CreateAsync(Objects.Service("a"));
        File.WriteAllText(Path.Combine(_dir.Path, "services", "default", "broken.yaml"), "apiVersion: v1\nkind: Service\nmetadata: [\n");
        var all = await _store.ListAsync<Service>();
        Assert.Equal(["default/a", "default/b", "zeta/b"], all.Select(s => $"{s.Namespace}/{s.Name}").ToArray());
        Assert.Single(await _store.ListAsync<Service>("zeta"));
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => _store.GetAsync<Service>("default", "broken"));
        Assert.Matches(@"broken\.yaml:\d+:\d+: invalid YAML", e.Message);
    }

    [Fact]
    public async Task GetAsync_NameThatIsNotALabel_ThrowsArgumentException()
        => await Assert.ThrowsAsync<ArgumentException>(() => _store.GetAsync<Service>("default", "../etc"));
}
