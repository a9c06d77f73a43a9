using System.Text.Json;
using FedMesh.Proxy.Admin;
using FedMesh.Proxy.Routing;
using Microsoft.AspNetCore.Http;
using Proto = FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Proxy.Tests.Admin;

public sealed class RoutesEndpointTests
{
    private static async Task<JsonElement> RoutesAsync(AppliedSnapshot? applied)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        await RoutesEndpoint.WriteAsync(context.Response, applied);
        return JsonDocument.Parse(body.ToArray()).RootElement.Clone();
    }

    [Fact]
    public async Task WriteAsync_AppliedSnapshot_ReportsVersionWeightsAndWhenApplied()
    {
        var snapshot = new Proto.Snapshot { Version = "v1", Cluster = "east" };
        var web = new Proto.Service { Name = "web", Namespace = "default", Route = new Proto.Route() };
        web.Route.Backends.Add(new Proto.WeightedBackend { Service = "web", Cluster = "east", Weight = 80 });
        web.Route.Backends.Add(new Proto.WeightedBackend { Service = "web-west", Cluster = "west", Weight = 20 });
        snapshot.Services.Add(web);
        var at = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.Zero);

        var routes = await RoutesAsync(new AppliedSnapshot(snapshot, at));

        Assert.Equal("v1", routes.GetProperty("version").GetString());
        Assert.Equal(at, routes.GetProperty("appliedAt").GetDateTimeOffset());
        var route = Assert.Single(routes.GetProperty("routes").EnumerateArray().ToList());
        Assert.Equal("web.default", route.GetProperty("service").GetString());
        Assert.Equal([80, 20], route.GetProperty("backends").EnumerateArray().Select(b => b.GetProperty("weight").GetInt32()));
    }

    [Fact]
    public async Task WriteAsync_NothingAppliedYet_AppliedAtIsNull()
    {
        var routes = await RoutesAsync(null);

        Assert.Equal(JsonValueKind.Null, routes.GetProperty("appliedAt").ValueKind);
        Assert.Empty(routes.GetProperty("routes").EnumerateArray());
    }
}
