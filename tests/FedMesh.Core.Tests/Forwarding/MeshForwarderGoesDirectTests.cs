using System.Net;
using FedMesh.Core.Forwarding;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Yarp.ReverseProxy.Forwarder;

namespace FedMesh.Core.Tests.Forwarding;

/// <summary>Which requests the direct HTTP/1.1 path takes; the rest go through YARP.</summary>
public sealed class MeshForwarderGoesDirectTests
{
    private static readonly ForwarderRequestConfig Http11 = new() { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionExact };

    private static DefaultHttpContext Context(string method = "GET", string protocol = "HTTP/1.1", string rawTarget = "/a?b=c", params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Protocol = protocol;
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = rawTarget;
        foreach (var (name, value) in headers)
            context.Request.Headers.Append(name, value);
        return context;
    }

    [Theory]
    [InlineData("HTTP/1.1")]
    [InlineData("HTTP/1.0")]
    public void GoesDirect_PlainHttp1Request_TrueWithTheRawTarget(string protocol)
    {
        Assert.True(MeshForwarder.GoesDirect(Context(protocol: protocol, rawTarget: "/x/%2F/../y?q=%20"), Http11, out var target));
        Assert.Equal("/x/%2F/../y?q=%20", target);
    }

    [Fact]
    public void GoesDirect_Http11OrLowerPolicy_True()
    {
        var config = Http11 with { VersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        Assert.True(MeshForwarder.GoesDirect(Context(), config, out _));
    }

    [Fact]
    public void GoesDirect_UpstreamVersionNotPinnedToHttp11_False()
    {
        Assert.False(MeshForwarder.GoesDirect(Context(), ForwarderRequestConfig.Empty, out _));
        Assert.False(MeshForwarder.GoesDirect(Context(), Http11 with { Version = HttpVersion.Version20 }, out _));
        Assert.False(MeshForwarder.GoesDirect(Context(), Http11 with { VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher }, out _));
    }

    [Fact]
    public void GoesDirect_Http2Request_False()
    {
        Assert.False(MeshForwarder.GoesDirect(Context(protocol: "HTTP/2"), Http11, out _));
    }

    [Fact]
    public void GoesDirect_UpgradeExpectOrConnect_False()
    {
        Assert.False(MeshForwarder.GoesDirect(Context(headers: ("Upgrade", "websocket")), Http11, out _));
        Assert.False(MeshForwarder.GoesDirect(Context(headers: ("Expect", "100-continue")), Http11, out _));
        Assert.False(MeshForwarder.GoesDirect(Context(method: "CONNECT", rawTarget: "example.com:443"), Http11, out _));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("http://example.com/a")]
    [InlineData("")]
    public void GoesDirect_TargetNotInOriginForm_False(string rawTarget)
    {
        Assert.False(MeshForwarder.GoesDirect(Context(method: "OPTIONS", rawTarget: rawTarget), Http11, out _));
    }
}
