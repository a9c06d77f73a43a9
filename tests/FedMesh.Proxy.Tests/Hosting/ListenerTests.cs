using System.Diagnostics;
using System.Net;
using FedMesh.Core.Common;
using FedMesh.Proxy.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy.Tests.Hosting;

/// <summary>What the data-plane listener costs per request beyond the handler.</summary>
public sealed class ListenerTests
{
    [Fact]
    public async Task Request_WithDataPlaneLogging_RunsWithoutAnAspNetCoreActivity()
    {
        // ASP.NET Core makes an Activity per request when its hosting category logs at any level; the data
        // plane turns that category off, so with tracing off a request carries no Activity at all.
        using var loggers = DataPlaneLogging.CreateLoggerFactory();
        Assert.Null(await ActivityDuringRequestAsync(loggers));
    }

    [Fact]
    public async Task Request_WithHostingDiagnosticsLogging_RunsWithAnActivity()
    {
        // The control case: the same listener with that category on does make one, so the test above can fail.
        using var loggers = LoggerFactory.Create(l => l.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning));
        Assert.NotNull(await ActivityDuringRequestAsync(loggers));
    }

    private static async Task<string?> ActivityDuringRequestAsync(ILoggerFactory loggers)
    {
        string? seen = "not called";
        await using var listener = Listener.Create(new IPEndPoint(IPAddress.Loopback, 0), HttpProtocols.Http1, loggers,
            _ => context =>
            {
                seen = Activity.Current?.OperationName;
                return context.Response.WriteAsync("ok");
            });
        await listener.StartAsync(CancellationToken.None);
        using var client = new HttpClient();
        var response = await client.GetAsync($"http://{listener.BoundEndpoint}/");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await listener.StopAsync(CancellationToken.None);
        return seen;
    }
}
