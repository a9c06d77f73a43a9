using FedMesh.Core.Common;
using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Probing;

/// <summary>A link's probe settings, parsed once from its spec (the validator already rejected bad ones).</summary>
internal sealed record ProbeSettings(string Address, string Identity, string Path, TimeSpan Period, TimeSpan Timeout, int FailureThreshold)
{
    /// <summary>Defaults: period 1 s, timeout 500 ms, failureThreshold 3 (Linkerd uses 3 s and 30 s).</summary>
    public static ProbeSettings From(LinkSpec spec)
    {
        var probe = spec.Probe ?? new ProbeSpec();
        var defaults = new ProbeSpec();
        var period = DurationParser.TryParse(probe.Period, out var p, out _) && p > TimeSpan.Zero ? p : DurationParser.Parse(defaults.Period);
        var timeout = DurationParser.TryParse(probe.Timeout, out var t, out _) && t > TimeSpan.Zero ? t : DurationParser.Parse(defaults.Timeout);
        var path = string.IsNullOrEmpty(probe.Path) ? WellKnown.GatewayProbePath : probe.Path;
        return new ProbeSettings(spec.GatewayAddress, spec.GatewayIdentity, path, period, timeout, Math.Max(1, probe.FailureThreshold));
    }
}
