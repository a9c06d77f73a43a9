using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using FedMesh.Core.Identity;
using FedMesh.Proxy.Hosting;
using FedMesh.Proxy.Inbound;
using FedMesh.Proxy.Tests.Support;
using FedMesh.Tests.Shared;

namespace FedMesh.Proxy.Tests.Inbound;

/// <summary>
/// The inbound listener resumes sessions; a resumed connection is checked in full, tells the app the right caller,
/// and is refused once its certificate no longer validates. Resumption is read off the wire (<see cref="TlsHelloTap"/>).
/// </summary>
public sealed class InboundResumptionTests : IAsyncLifetime
{
    private MeshFixture _mesh = null!;
    private ProxyRuntime _echo = null!;

    public async Task InitializeAsync()
    {
        _mesh = await MeshFixture.StartAsync();
        _echo = await _mesh.StartProxyAsync(_mesh.Options("echo", "echo-east-0", await _mesh.StartAppAsync("echo-app")));
    }

    public async Task DisposeAsync() => await _mesh.DisposeAsync();

    [Fact]
    public async Task ResumedConnection_ReachesTheAppWithTheVerifiedCaller()
    {
        using var member = _mesh.Pki.Issue(_mesh.Pki.West, TestPki.Id("west", "client"));
        await using var tap = new TlsHelloTap(_echo.InboundEndpoint);

        var first = await GetAsync(member, tap.Endpoint);
        var second = await GetAsync(member, tap.Endpoint);

        Assert.Equal(2, tap.Handshakes.Count);
        Assert.True(tap.Handshakes[1].Tls13);
        Assert.True(tap.Handshakes[1].Resumed, "the second connection resumed the first one's session");
        Assert.Contains($"caller={member.Id}", first);
        Assert.Contains($"caller={member.Id}", second);
    }

    [Fact]
    public async Task ResumedSession_CertificateExpiredSince_IsRefused()
    {
        var time = new ShiftedTime();
        using var server = _mesh.Pki.Issue(_mesh.Pki.East, TestPki.Id("east", "echo"));
        using var member = _mesh.Pki.Issue(_mesh.Pki.West, TestPki.Id("west", "client"));
        var tls = new InboundTls(server, time, _mesh.Logs.CreateFactory().CreateLogger("inbound"));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        await using var tap = new TlsHelloTap((IPEndPoint)listener.LocalEndpoint);
        Assert.True(await HandshakeAsync(listener, tls, member, tap.Endpoint));
        time.Shift = TimeSpan.FromHours(2); // past the member's one-hour leaf

        var accepted = await HandshakeAsync(listener, tls, member, tap.Endpoint);

        Assert.True(tap.Handshakes[1].Resumed);
        Assert.False(accepted);
        Assert.True(_mesh.Logs.Contains("is not valid at"), "the refusal says why");
    }

    private static async Task<string> GetAsync(WorkloadIdentity member, IPEndPoint via)
    {
        var ssl = new SslClientAuthenticationOptions
        {
            ClientCertificateContext = SslStreamCertificateContext.Create(member.Certificate, member.Chain, offline: true),
            RemoteCertificateValidationCallback = static (_, _, _, _) => true,
        };
        using var http = new HttpClient(new SocketsHttpHandler { SslOptions = ssl, UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{via}/");
        request.Headers.Host = "echo.default"; // the handler's TLS name, under which it keeps the session
        using var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    // One connection accepted with the inbound listener's options; true when the server side admitted the client.
    private static async Task<bool> HandshakeAsync(TcpListener listener, InboundTls inbound, WorkloadIdentity member, IPEndPoint via)
    {
        var serve = Task.Run(async () =>
        {
            using var socket = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(socket.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(inbound.Current());
                await tls.WriteAsync(new byte[] { 1 });
                await tls.ReadAtLeastAsync(new byte[1], 1, throwOnEndOfStream: false);
                return true;
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                return false;
            }
        });
        using (var connection = new TcpClient())
        {
            await connection.ConnectAsync(via);
            await using var tls = new SslStream(connection.GetStream());
            var options = member.ClientOptions(TestPki.Id("east", "echo").ToString());
            options.TargetHost = "echo.test";
            try
            {
                await tls.AuthenticateAsClientAsync(options).WaitAsync(TimeSpan.FromSeconds(10));
                await tls.ReadExactlyAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)); // takes the ticket in
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                // TLS 1.3: the client may finish before the server refuses it; the server's answer is what counts.
            }
        }
        return await serve.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Shift { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Shift;
    }
}
