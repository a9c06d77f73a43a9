using FedMesh.Core.Resources;
using static FedMesh.Core.Tests.Validation.ValidationAssert;

namespace FedMesh.Core.Tests.Validation;

public sealed class CommonRulesTests
{
    private static Service Svc(string name, string? ns = null, params int[] ports) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = ns },
        Spec = new ServiceSpec { Ports = ports.Select(p => new ServicePort { Port = p }).ToList() },
    };

    [Theory]
    [InlineData("web")]
    [InlineData("a")]
    [InlineData("web-2")]
    [InlineData("0abc")]
    public void Validate_DnsLabelName_IsValid(string name) => Valid(Svc(name, null, 80));

    [Theory]
    [InlineData("")]
    [InlineData("Web")]
    [InlineData("-web")]
    [InlineData("web-")]
    [InlineData("web_1")]
    [InlineData("web.shop")]
    public void Validate_BadName_ReportsMetadataName(string name) => Invalid(Svc(name, null, 80), "metadata.name");

    [Fact]
    public void Validate_NameOf64Characters_ReportsLength()
        => Assert.Contains("longer than 63", Invalid(Svc(new string('a', 64), null, 80), "metadata.name")[0].Message);

    [Fact]
    public void Validate_BadNamespace_ReportsMetadataNamespace() => Invalid(Svc("web", "Shop", 80), "metadata.namespace");

    [Fact]
    public void Validate_ServicePortsOutOfRange_ReportsEachPort()
    {
        var errors = Invalid(Svc("web", null, 0, 80, 65536), "spec.ports[0].port", "spec.ports[2].port");
        Assert.Equal("must be between 1 and 65535 (got 65536)", errors[1].Message);
    }

    [Fact]
    public void Validate_ServiceDuplicatePortNamesAndBadProtocol_ReportsBoth()
    {
        var s = Svc("web", null, 80, 81);
        s.Spec.Ports[0].Name = "http";
        s.Spec.Ports[1].Name = "http";
        s.Spec.Ports[1].Protocol = "QUIC";
        s.Spec.Ports[1].TargetPort = 70000;
        Invalid(s, "spec.ports[1].name", "spec.ports[1].protocol", "spec.ports[1].targetPort");
    }

    [Theory]
    [InlineData("127.0.0.1:8080", true)]
    [InlineData("gw.example.org:443", true)]
    [InlineData("[::1]:4143", true)]
    [InlineData("localhost:1", true)]
    [InlineData("127.0.0.1", false)]
    [InlineData("127.0.0.1:0", false)]
    [InlineData("127.0.0.1:99999", false)]
    [InlineData(":8080", false)]
    [InlineData("::1:8080", false)]
    [InlineData("host name:80", false)]
    [InlineData("", false)]
    public void Validate_EndpointAddress_MustBeHostPort(string address, bool valid)
    {
        var ep = new Endpoints { Metadata = new ObjectMeta { Name = "web" }, Spec = new EndpointsSpec { Endpoints = [new EndpointEntry { Address = address }] } };
        if (valid) Valid(ep); else Invalid(ep, "spec.endpoints[0].address");
    }

    [Fact]
    public void Validate_EndpointIdentityAndWeight_AreChecked()
    {
        var ep = new Endpoints
        {
            Metadata = new ObjectMeta { Name = "web" },
            Spec = new EndpointsSpec { Endpoints = [new EndpointEntry { Address = "127.0.0.1:1", Identity = "https://x", Weight = -1, Cluster = "West" }] },
        };
        Invalid(ep, "spec.endpoints[0].identity", "spec.endpoints[0].weight", "spec.endpoints[0].cluster");
    }
}
