using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>Link: target, gateway address and identity, probe settings.</summary>
internal sealed class LinkValidator
{
    public void Validate(LinkSpec spec, ValidationCollector c)
    {
        FieldChecks.DnsLabel(c, "spec.targetCluster", spec.TargetCluster);
        // A link that does not mirror (the far side of a one-way link) only admits the target's
        // traffic, so it needs no gateway to reach; when given, the fields must still be valid.
        FieldChecks.HostPort(c, "spec.gatewayAddress", spec.GatewayAddress, required: spec.Mirror);
        FieldChecks.SpiffeId(c, "spec.gatewayIdentity", spec.GatewayIdentity, required: spec.Mirror);
        if (spec.Probe is { } probe)
        {
            if (string.IsNullOrEmpty(probe.Path) || probe.Path[0] != '/')
                c.Add("spec.probe.path", $"must be an absolute path starting with '/' (got \"{probe.Path}\"), e.g. \"{WellKnown.GatewayProbePath}\"");
            FieldChecks.Duration(c, "spec.probe.period", probe.Period);
            FieldChecks.Duration(c, "spec.probe.timeout", probe.Timeout);
            if (probe.FailureThreshold < 1)
                c.Add("spec.probe.failureThreshold", $"must be at least 1 (got {probe.FailureThreshold})");
        }
    }
}
