using System.Net;
using FedMesh.Core.Identity;
using FedMesh.Core.Store;
using FedMesh.Core.Telemetry;
using FedMesh.MirrorController.Admin;
using FedMesh.MirrorController.Canary;
using FedMesh.MirrorController.Discovery;
using FedMesh.MirrorController.Mirroring;
using FedMesh.MirrorController.Targets;
using FedMesh.MirrorController.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Hosting;

/// <summary>
/// Builds the controller's web application: gRPC (Discovery, Identity) over cleartext HTTP/2 and the
/// admin port over HTTP/1.1, both on 127.0.0.1, plus the mirroring and discovery background services.
/// </summary>
internal static class ControllerApplication
{
    public static WebApplication Build(ControllerSetup setup, Action<ILoggingBuilder>? configureLogging = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ApplicationName = "fedmesh-mirror-controller" });
        builder.Logging.ClearProviders();
        if (configureLogging is not null)
            configureLogging(builder.Logging);
        else
        {
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning).AddFilter("System", LogLevel.Warning).AddFilter("Grpc", LogLevel.Warning);
        }
        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        var endpoints = new ListenEndpoints();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(setup.ListenAddress, setup.GrpcPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http2;
                endpoints.Grpc = listen;
            });
            kestrel.Listen(setup.ListenAddress, setup.AdminPort, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                endpoints.Admin = listen;
            });
        });

        var services = builder.Services;
        services.AddSingleton(endpoints);
        services.AddSingleton(setup.Identity);
        services.AddSingleton(setup.Options);
        services.AddSingleton(setup.Time);
        services.AddSingleton<IClusterStore>(setup.Store);
        services.AddSingleton<ITargetStoreResolver>(setup.Targets);
        if (setup.Workloads is { } workloads)
            services.AddSingleton(workloads);
        services.AddSingleton<ReadinessState>();
        services.AddSingleton<SnapshotPublisher>();
        services.AddSingleton<StatsAggregator>();
        services.AddSingleton<IRequestStatsView>(sp => sp.GetRequiredService<StatsAggregator>());
        services.AddHostedService<MirroringService>();
        services.AddHostedService<DiscoveryModelService>();
        services.AddCanaryRollouts();
        // Disposed by the container with the app: the meter provider, then the gauges' meter.
        services.AddSingleton(_ => TelemetryHost.Start("fedmesh-controller", setup.Identity.Cluster, $"{setup.Identity.Cluster}-controller",
            TelemetrySettings.FromEnvironment(), traces: false, LinkMetrics.MeterName));
        services.AddHostedService<LinkMetrics>();
        services.AddSingleton(new Probing.ProbeIdentitySource(setup.Identity, setup.Issuer, setup.Time));
        services.AddSingleton<Probing.GatewayHealthBook>();
        services.AddHostedService<Probing.GatewayProber>();
        services.AddSingleton<Failover.FailoverCoordinator>();
        services.AddHostedService(sp => sp.GetRequiredService<Failover.FailoverCoordinator>());
        services.AddGrpc();
        if (setup.Issuer is { } issuer)
            services.AddIdentityService(issuer.Issuer, setup.Identity.Cluster, setup.Identity.TrustDomain, issuer.Authorizer);

        var app = builder.Build();
        var readiness = app.Services.GetRequiredService<ReadinessState>();
        readiness.MarkStoreOpen();
        app.Lifetime.ApplicationStarted.Register(readiness.MarkGrpcListening);

        // Requests on the admin port never reach gRPC routing, and gRPC is never served on the admin port.
        var telemetry = app.Services.GetRequiredService<TelemetryHost>();
        app.MapWhen(context => context.Connection.LocalPort == endpoints.AdminPort, admin =>
        {
            telemetry.MapMetrics(admin, static _ => true);
            AdminEndpoints.Map(admin, readiness);
        });
        app.MapGrpcService<DiscoveryService>();
        app.MapGrpcService<TelemetryService>();
        if (setup.Issuer is not null)
            app.MapGrpcService<IdentityService>();
        return app;
    }
}
