using FedMesh.Core.Store;
using FedMesh.MirrorController.Hosting;
using FedMesh.MirrorController.Targets;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace FedMesh.MirrorController.Tests.Support;

/// <summary>A controller running in-process on 127.0.0.1 with port 0 listeners.</summary>
internal sealed class RunningController : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningController(WebApplication app, ListenEndpoints endpoints)
    {
        _app = app;
        GrpcAddress = $"http://127.0.0.1:{endpoints.GrpcPort}";
        AdminAddress = $"http://127.0.0.1:{endpoints.AdminPort}";
    }

    public string GrpcAddress { get; }
    public string AdminAddress { get; }

    public static async Task<RunningController> StartAsync(IClusterStore store, ITargetStoreResolver targets, TimeSpan? repairInterval = null, IssuerSetup? issuer = null, string trustDomain = "fedmesh.local", IWorkloadEndpointSource? workloads = null)
    {
        var setup = new ControllerSetup
        {
            Identity = new ControllerIdentity(store.Cluster, trustDomain),
            Store = store,
            Targets = targets,
            Options = new MirrorControllerOptions { Cluster = store.Cluster, RepairInterval = repairInterval ?? TimeSpan.FromHours(1), WatchRetryMaxDelay = TimeSpan.FromMilliseconds(300) },
            Issuer = issuer,
            Workloads = workloads,
        };
        var app = ControllerApplication.Build(setup, _ => { });
        await app.StartAsync();
        var controller = new RunningController(app, app.Services.GetRequiredService<ListenEndpoints>());
        await controller.WaitReadyAsync();
        return controller;
    }

    public async Task WaitReadyAsync()
    {
        using var http = new HttpClient();
        await Eventually.TrueAsync(async () =>
        {
            try { return (await http.GetAsync(AdminAddress + "/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, "the controller to report ready");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
