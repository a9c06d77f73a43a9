using System.Net;
using System.Net.Security;
using FedMesh.Core.Tests.Forwarding.Support;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>The direct path over TLS: it offers only HTTP/1.1 in ALPN and keeps the TLS connection for the next request.</summary>
public sealed class MeshForwarderTlsTests
{
    [Fact]
    public async Task SendAsync_HttpsDestination_Http11NegotiatedAndConnectionReused()
    {
        using var certificate = TestCertificate.SelfSigned();
        await using var upstream = ScriptedUpstream.Answering(r =>
        {
            var body = $"{r.Connection.NegotiatedProtocol}-{r.Sequence}";
            return $"HTTP/1.1 200 OK\r\nContent-Length: {body.Length}\r\n\r\n{body}";
        }, certificate);
        var client = ForwardingFront.CreateClient(new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, client: client);

        var (response, first, outcome) = await front.GetAsync("/");
        var (_, second, _) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ForwarderError.None, outcome.Error);
        Assert.Equal("http/1.1-1", first); // the server offered h2 first; the direct path asked for HTTP/1.1 only
        Assert.Equal("http/1.1-2", second);
        Assert.Equal(1, upstream.Accepted);
    }

    [Fact]
    public async Task SendAsync_ServerCertificateRejected_502RequestError()
    {
        using var certificate = TestCertificate.SelfSigned();
        await using var upstream = ScriptedUpstream.Answering(_ => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", certificate);
        var client = ForwardingFront.CreateClient(new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => false });
        await using var front = await ForwardingFront.StartAsync(upstream.Prefix, client: client);

        var (response, _, outcome) = await front.GetAsync("/");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(ForwarderError.Request, outcome.Error);
        Assert.IsAssignableFrom<System.Security.Authentication.AuthenticationException>(outcome.Feature!.Exception);
    }
}
