using System.Net;
using FedMesh.MirrorController.Tests.Support;

namespace FedMesh.MirrorController.Tests.Hosting;

public sealed class AdminEndpointTests
{
    [Fact]
    public async Task AdminPort_ServesReadyAndLive_NotGrpc_UnknownPathIs404()
    {
        var east = new InMemoryClusterStore("east");
        await using var controller = await RunningController.StartAsync(east, new DictionaryTargetResolver());
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(controller.AdminAddress + "/ready")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(controller.AdminAddress + "/live")).StatusCode);
        var unknown = await http.GetAsync(controller.AdminAddress + "/fedmesh.discovery.v1.Discovery/Watch");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
