using FedMesh.Core.Resources;
using static FedMesh.Tests.Shared.ValidPolicies;
using static FedMesh.Core.Tests.Validation.ValidationAssert;

namespace FedMesh.Core.Tests.Validation;

public sealed class LinkRulesTests
{

    [Fact]
    public void Validate_CompleteLink_IsValid() => Valid(Link());

    [Fact]
    public void Validate_MissingFields_ReportsEach()
        => Invalid(Link(s => { s.TargetCluster = ""; s.GatewayAddress = ""; s.GatewayIdentity = ""; }), "spec.targetCluster", "spec.gatewayAddress", "spec.gatewayIdentity");

    [Fact]
    public void Validate_NonMirroringLinkWithoutGateway_IsValid()
        => Valid(Link(s => { s.Mirror = false; s.GatewayAddress = ""; s.GatewayIdentity = ""; }));

    [Theory]
    [InlineData("http://fedmesh.local/x")]
    [InlineData("spiffe://")]
    [InlineData("spiffe://td/x?y=1")]
    [InlineData("spiffe://td:8080/x")]
    [InlineData("gateway")]
    public void Validate_GatewayIdentityNotSpiffe_Reported(string identity)
        => Invalid(Link(s => s.GatewayIdentity = identity), "spec.gatewayIdentity");

    [Fact]
    public void Validate_BadProbe_ReportsEveryField()
    {
        var errors = Invalid(Link(s => s.Probe = new ProbeSpec { Path = "probe", Period = "0s", Timeout = "5x", FailureThreshold = 0 }),
            "spec.probe.path", "spec.probe.period", "spec.probe.timeout", "spec.probe.failureThreshold");
        Assert.Contains(errors, e => e.Message == "must be greater than zero (got \"0s\")");
        Assert.Contains(errors, e => e.Message.Contains("unknown unit \"x\""));
    }
}
