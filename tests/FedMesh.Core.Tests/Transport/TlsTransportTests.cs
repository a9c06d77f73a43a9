using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using FedMesh.Tests.Shared;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FedMesh.Core.Tests.Transport;

/// <summary>HTTP over <see cref="FedMesh.Core.Transport.TlsTransport"/>: what a client and a handler see.</summary>
public sealed class TlsTransportTests
{
    private static readonly RequestDelegate Describe = context =>
    {
        var tls = context.Features.Get<ITlsHandshakeFeature>();
        return context.Response.WriteAsync(
            $"{context.Request.Protocol} {context.Request.Scheme} {context.Connection.Id} {context.Connection.ClientCertificate?.Subject} {tls?.Protocol} {context.Connection.RemoteIpAddress}");
    };

    private static HttpRequestMessage Get(string url, Version version) =>
        new(HttpMethod.Get, url) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

    [Fact]
    public async Task Http11_KeepAlive_ServesEveryRequestOnOneConnection()
    {
        await using var server = await TlsTestServer.StartAsync(Describe);
        using var http = TlsTestServer.Client(maxConnections: 1);

        var connections = new HashSet<string>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await http.SendAsync(Get(server.Url, HttpVersion.Version11));
            var seen = (await response.Content.ReadAsStringAsync()).Split(' ');
            Assert.Equal(HttpVersion.Version11, response.Version);
            Assert.Equal(["HTTP/1.1", "https"], seen[..2]);
            connections.Add(seen[2]);
        }

        Assert.Single(connections);
        Assert.Equal(1, server.Handshakes);
    }

    [Fact]
    public async Task Http2_ChosenByAlpn_WithTlsFeatures()
    {
        await using var server = await TlsTestServer.StartAsync(Describe);
        using var http = TlsTestServer.Client();

        using var response = await http.SendAsync(Get(server.Url, HttpVersion.Version20));
        var seen = (await response.Content.ReadAsStringAsync()).Split(' ');

        Assert.Equal(HttpVersion.Version20, response.Version);
        Assert.Equal("HTTP/2", seen[0]);
        Assert.Equal("https", seen[1]);
        Assert.StartsWith("Tls1", seen[4]);
        Assert.Equal("127.0.0.1", seen[5]);
    }

    [Fact]
    public async Task ClientCertificate_AndItemsSetDuringHandshake_AreVisibleToTheHandler()
    {
        var key = new object();
        await using var server = await TlsTestServer.StartAsync(
            context => context.Response.WriteAsync(
                $"{context.Connection.ClientCertificate?.Subject}|{context.Features.Get<IConnectionItemsFeature>()!.Items[key]}"),
            onConnection: connection => connection.Items[key] = "tagged in the handshake");
        using var certificate = TlsTestServer.Certificate("caller.test");
        using var http = TlsTestServer.Client(certificate);

        foreach (var version in new[] { HttpVersion.Version11, HttpVersion.Version20 })
        {
            using var response = await http.SendAsync(Get(server.Url, version));
            Assert.Equal("CN=caller.test|tagged in the handshake", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task RefusedClientCertificate_FailsTheHandshake_IsLogged_AndTheServerKeepsServing()
    {
        await using var server = await TlsTestServer.StartAsync(Describe, acceptClient: presented => presented is not null && presented.Subject != "CN=intruder.test");
        using var intruder = TlsTestServer.Client(TlsTestServer.Certificate("intruder.test"));
        using var anonymous = TlsTestServer.Client(none: true);
        using var member = TlsTestServer.Client();

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => intruder.GetStringAsync(server.Url));
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => anonymous.GetStringAsync(server.Url));

        Assert.StartsWith("HTTP/", await member.GetStringAsync(server.Url));
        await Eventually.TrueAsync(() => server.Logged("TLS handshake with 127.0.0.1"), "the member's TLS handshake logged");
    }

    [Fact]
    public async Task OptionsCallbackThrowing_RefusesTheConnection_WithAWarning()
    {
        await using var server = await TlsTestServer.StartAsync(Describe, onConnection: _ => throw new InvalidOperationException("no certificate yet"));
        using var http = TlsTestServer.Client();

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync(server.Url));

        await Eventually.TrueAsync(() => server.Logged("Warning FedMesh.Listener: TLS connection from 127.0.0.1") && server.Logged("no certificate yet"),
            "the refused connection's warning logged with the callback's error");
    }

    [Fact]
    public async Task SilentClient_IsClosedAfterTheHandshakeTimeout()
    {
        await using var server = await TlsTestServer.StartAsync(Describe, handshakeTimeout: TimeSpan.FromMilliseconds(300));
        using var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await tcp.ConnectAsync(server.Address);

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var buffer = new byte[16];
        int read;
        try
        {
            read = await tcp.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
        }
        catch (SocketException)
        {
            read = 0; // reset: closed all the same
        }

        Assert.Equal(0, read);
        await Eventually.TrueAsync(() => server.Logged("timed out after 0.3 s"), "the handshake timeout logged");
    }

    [Fact]
    public async Task ClientLeavingMidRequest_FiresRequestAborted()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TlsTestServer.StartAsync(async context =>
        {
            context.RequestAborted.Register(() => aborted.TrySetResult());
            started.TrySetResult();
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted).ContinueWith(_ => { });
        });
        var client = await server.ConnectRawAsync();
        await client.WriteAsync("GET /slow HTTP/1.1\r\nHost: server.test\r\n\r\n"u8.ToArray());
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));

        await client.DisposeAsync(); // the client goes away while the handler still works

        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task LargeBodies_TravelWholeBothWays(string version)
    {
        const int size = 8 * 1024 * 1024;
        await using var server = await TlsTestServer.StartAsync(async context =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            long total = 0;
            int n;
            while ((n = await context.Request.Body.ReadAsync(buffer)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
            }
            context.Response.Headers["x-received"] = $"{total} {Convert.ToHexString(hash.GetHashAndReset())}";
            await context.Response.Body.WriteAsync(Pattern(size));
        });
        using var http = TlsTestServer.Client();
        var body = RandomNumberGenerator.GetBytes(size);
        using var request = new HttpRequestMessage(HttpMethod.Post, server.Url)
        {
            Version = Version.Parse(version),
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };

        using var response = await http.SendAsync(request);
        var returned = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal($"{size} {Convert.ToHexString(SHA256.HashData(body))}", response.Headers.GetValues("x-received").Single());
        Assert.Equal(Pattern(size), returned);
    }

    [Fact]
    public async Task HandlerAbort_ClosesTheConnection_AndTheNextRequestIsServed()
    {
        await using var server = await TlsTestServer.StartAsync(context =>
        {
            if (context.Request.Path == "/abort")
                context.Abort();
            else
                return context.Response.WriteAsync("fine");
            return Task.CompletedTask;
        });
        using var http = TlsTestServer.Client(maxConnections: 1);

        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync(server.Url + "/abort"));

        Assert.Equal("fine", await http.GetStringAsync(server.Url + "/next"));
        // Each abort ended its connection (the client retries an aborted GET a few times, each on a new one).
        Assert.True(server.Handshakes >= 2, $"{server.Handshakes} handshakes");
    }

    [Fact]
    public async Task Stop_WithIdleAndHandshakingConnections_EndsPromptly()
    {
        var server = await TlsTestServer.StartAsync(Describe);
        using var http = TlsTestServer.Client();
        await http.GetStringAsync(server.Url); // an idle keep-alive connection stays open
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await silent.ConnectAsync(server.Address); // and one that never starts its handshake

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        await server.StopAsync(TimeSpan.FromSeconds(20));
        await server.DisposeAsync();

        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(5), $"stopping took {stopping.Elapsed}");
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetStringAsync(server.Url));
    }

    private static byte[] Pattern(int size)
    {
        var bytes = new byte[size];
        for (var i = 0; i < size; i++)
            bytes[i] = (byte)(i * 31 + (i >> 12));
        return bytes;
    }
}
