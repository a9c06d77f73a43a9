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

    [Fact]
    public async Task CleartextHttp1AndHttp2_OnePort_ServesBoth()
    {
        await using var listener = await StartProtocolEchoAsync();
        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false });

        foreach (var (version, expected) in new[] { (HttpVersion.Version11, "HTTP/1.1"), (HttpVersion.Version20, "HTTP/2") })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{listener.BoundEndpoint}/")
            {
                Version = version,
                VersionPolicy = HttpVersionPolicy.RequestVersionExact, // HTTP/2 over http:// is prior knowledge (h2c)
            };
            using var response = await client.SendAsync(request);
            Assert.Equal(expected, await response.Content.ReadAsStringAsync());
            Assert.Equal(version, response.Version);
        }
    }

    [Fact]
    public async Task CleartextDetection_FirstBytesArrivingOneByOne_StillDetected()
    {
        await using var listener = await StartProtocolEchoAsync();

        // HTTP/1.1 whose method starts like the preface ("P", then "PROPFIND").
        var http1 = await SendSlowlyAsync(listener.BoundEndpoint, "PROPFIND / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), readAll: true);
        var text = System.Text.Encoding.ASCII.GetString(http1);
        Assert.StartsWith("HTTP/1.1 200", text);
        Assert.Contains("HTTP/1.1", text[text.IndexOf("\r\n\r\n", StringComparison.Ordinal)..]); // the body: the protocol the handler saw

        // The HTTP/2 preface: the server answers with its SETTINGS frame (type 4), as HTTP/2 servers do.
        var http2 = await SendSlowlyAsync(listener.BoundEndpoint, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray(), readAll: false);
        Assert.True(http2.Length >= 9, "a frame header");
        Assert.Equal(4, http2[3]);
    }

    [Fact]
    public async Task CleartextDetection_Stopped_ReleasesThePort()
    {
        IPEndPoint bound;
        await using (var listener = await StartProtocolEchoAsync())
        {
            bound = listener.BoundEndpoint;
            await listener.StopAsync(CancellationToken.None);
        }
        using var again = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        again.Bind(bound);
    }

    [Theory]
    [InlineData("GET / HTTP/1.1", HttpProtocols.Http1)]
    [InlineData("PUT", HttpProtocols.Http1)]
    [InlineData("PROPFIND", HttpProtocols.Http1)]
    [InlineData("PRI * HTTP/2.0", HttpProtocols.Http2)]
    [InlineData("PRI", HttpProtocols.Http2)]
    [InlineData("PR", null)]
    [InlineData("P", null)]
    public void Detect_FromFirstBytes(string first, HttpProtocols? expected) =>
        Assert.Equal(expected, CleartextProtocolDetection.Detect(System.Text.Encoding.ASCII.GetBytes(first)));

    private static async Task<Listener> StartProtocolEchoAsync()
    {
        var listener = Listener.Create(new IPEndPoint(IPAddress.Loopback, 0), HttpProtocols.Http1AndHttp2, LoggerFactory.Create(_ => { }),
            _ => context => context.Response.WriteAsync(context.Request.Protocol));
        await listener.StartAsync(CancellationToken.None);
        return listener;
    }

    /// <summary>Sends <paramref name="bytes"/> a byte at a time for the first four, then the rest; returns what came back.</summary>
    private static async Task<byte[]> SendSlowlyAsync(IPEndPoint endpoint, byte[] bytes, bool readAll)
    {
        using var tcp = new System.Net.Sockets.TcpClient { NoDelay = true };
        await tcp.ConnectAsync(endpoint);
        var stream = tcp.GetStream();
        for (var i = 0; i < 4; i++)
        {
            await stream.WriteAsync(bytes.AsMemory(i, 1));
            await Task.Delay(30);
        }
        await stream.WriteAsync(bytes.AsMemory(4));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        var buffer = new byte[4096];
        int n;
        while ((n = await stream.ReadAsync(buffer, timeout.Token)) > 0)
        {
            received.Write(buffer, 0, n);
            if (!readAll && received.Length >= 9)
                break;
        }
        return received.ToArray();
    }
}
