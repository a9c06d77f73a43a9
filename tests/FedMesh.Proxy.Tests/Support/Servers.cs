using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FedMesh.Proxy.Tests.Support;

/// <summary>Small real Kestrel servers on 127.0.0.1, port 0.</summary>
internal static class Servers
{
    public static async Task<(WebApplication App, Uri Address)> StartAsync(
        HttpProtocols protocols, Action<ListenOptions>? listen, Action<IServiceCollection>? services, Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, l =>
        {
            l.Protocols = protocols;
            listen?.Invoke(l);
        }));
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, new Uri(address));
    }

    /// <summary>A plain HTTP app that answers with what it saw, so tests can check what arrived.</summary>
    public static Task<(WebApplication App, Uri Address)> StartAppAsync(string name)
        => StartAsync(HttpProtocols.Http1, null, null, app => app.Run(context => Describe(context, name)));

    public static async Task Describe(HttpContext context, string name)
    {
        var buffer = new byte[64 * 1024];
        long length = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer)) > 0)
            length += read;
        context.Response.Headers["x-test-server"] = name;
        var caller = context.Request.Headers["x-fedmesh-caller"].ToString();
        await context.Response.WriteAsync(
            $"server={name};host={context.Request.Host};proto={context.Request.Protocol};path={context.Request.Path}{context.Request.QueryString};caller={caller};body={length}");
    }
}
