using FedMesh.Core.Resources;

namespace FedMesh.Linker.Commands;

/// <summary>One target of one policy under a simulated outage.</summary>
internal sealed record SimulationRow(string Cluster, string Policy, string Service, int Order, string Target, int HealthyPercent, int Weight, string Note);

/// <summary>
/// What a cluster's failover policy would do if <c>down</c> failed, from the stored endpoints and link status only:
/// the same rule as the controller (first target with at least minHealthyPercent healthy; a degraded target keeps
/// 100 − maxSpillPercent of the traffic), without failback delays. Reads nothing live, changes nothing.
/// </summary>
internal static class FailoverSimulator
{
    public static IEnumerable<SimulationRow> Simulate(string cluster, FailoverPolicy policy, IReadOnlyList<Endpoints> endpoints, IReadOnlyList<Link> links, string down)
    {
        var spec = policy.Spec;
        var min = spec.Trigger?.MinHealthyPercent ?? new FailoverTrigger().MinHealthyPercent;
        var shares = spec.Targets.Select(t => Share(cluster, policy.Namespace, spec.Service, t.Cluster, endpoints, links, down)).ToArray();
        var weights = new int[shares.Length];
        var active = Array.FindIndex(shares, s => s.Percent > 0 && s.Percent >= min);
        var degraded = -1;
        if (active < 0)
            degraded = Array.FindIndex(shares, s => s.Percent > 0); // as the proxy does: no target meets the threshold, the first with any healthy endpoint serves
        if (cluster == down)
        {
            // The policy's own cluster is down: its proxies send nothing.
        }
        else if (active >= 0)
        {
            weights[active] = 100;
            degraded = Array.FindIndex(shares, 0, active, s => s.Percent > 0);
            if (degraded >= 0 && spec.MaxSpillPercent < 100)
            {
                weights[degraded] = 100 - spec.MaxSpillPercent;
                weights[active] = spec.MaxSpillPercent;
            }
        }
        else if (degraded >= 0)
            weights[degraded] = 100;
        for (var i = 0; i < shares.Length; i++)
        {
            var target = string.IsNullOrEmpty(spec.Targets[i].Cluster) ? cluster : spec.Targets[i].Cluster;
            var note = cluster == down ? "policy's own cluster is down" : i == active ? "active"
                : i == degraded && weights[i] > 0 ? $"degraded (below {min}% healthy), still serving" : shares[i].Note;
            yield return new SimulationRow(cluster, policy.Name, spec.Service, i + 1, target, shares[i].Percent, weights[i], note);
        }
    }

    private static (int Percent, string Note) Share(string cluster, string ns, string service, string target, IReadOnlyList<Endpoints> endpoints, IReadOnlyList<Link> links, string down)
    {
        var local = string.IsNullOrEmpty(target) || target == cluster;
        if ((local ? cluster : target) == down)
            return (0, "down (simulated)");
        if (!local)
        {
            var link = links.FirstOrDefault(l => l.Spec.TargetCluster == target && l.Spec.Mirror);
            if (link is null)
                return (0, "not linked");
            if (link.Status?.Alive == false)
                return (0, "gateway not alive");
        }
        var name = local ? service : WellKnown.MirrorName(service, target);
        var set = endpoints.FirstOrDefault(e => e.Namespace == ns && e.Name == name);
        if (set is null || set.Spec.Endpoints.Count == 0)
            return (0, local ? "no endpoints" : "not mirrored");
        var ready = set.Spec.Endpoints.Count(e => e.Ready);
        var percent = ready * 100 / set.Spec.Endpoints.Count;
        return (percent, percent == 0 ? "no healthy endpoints" : "standby");
    }
}
