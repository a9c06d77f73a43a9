using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>FailoverPolicy: service, ordered targets, trigger, failback and spill.</summary>
internal sealed class FailoverPolicyValidator
{
    public void Validate(FailoverPolicySpec spec, ValidationCollector c)
    {
        FieldChecks.DnsLabel(c, "spec.service", spec.Service);
        ValidateTargets(spec.Targets, c);
        if (spec.Trigger is { } trigger)
        {
            FieldChecks.Range(c, "spec.trigger.minHealthyPercent", trigger.MinHealthyPercent, 0, 100);
            if (trigger.MaxErrorRate is { } maxErrorRate)
                FieldChecks.Range(c, "spec.trigger.maxErrorRate", maxErrorRate, 0, 100);
            FieldChecks.Duration(c, "spec.trigger.maxLatencyP99", trigger.MaxLatencyP99, required: false);
            FieldChecks.Duration(c, "spec.trigger.window", trigger.Window);
        }
        if (spec.Failback is { } failback)
            FieldChecks.Duration(c, "spec.failback.after", failback.After);
        FieldChecks.Range(c, "spec.maxSpillPercent", spec.MaxSpillPercent, 1, 100);
    }

    private static void ValidateTargets(List<FailoverTarget> targets, ValidationCollector c)
    {
        if (targets.Count == 0)
        {
            c.Add("spec.targets", "needs at least one target cluster, in order of preference");
            return;
        }
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < targets.Count; i++)
        {
            var path = ValidationCollector.Index("spec.targets", i);
            var target = targets[i];
            if (target is null) { c.Add(path, "must not be empty"); continue; }
            FieldChecks.DnsLabel(c, path + ".cluster", target.Cluster);
            if (string.IsNullOrEmpty(target.Cluster)) continue;
            if (seen.TryGetValue(target.Cluster, out var first))
                c.Add(path + ".cluster", $"\"{target.Cluster}\" is already spec.targets[{first}]; list each cluster once");
            else
                seen[target.Cluster] = i;
        }
    }
}
