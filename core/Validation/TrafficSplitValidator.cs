using FedMesh.Core.Resources;

namespace FedMesh.Core.Validation;

/// <summary>TrafficSplit: service, backends and their weights, canary analysis.</summary>
internal sealed class TrafficSplitValidator
{
    public void Validate(TrafficSplitSpec spec, ValidationCollector c)
    {
        FieldChecks.DnsLabel(c, "spec.service", spec.Service);
        ValidateBackends(spec.Backends, c);
        if (spec.Analysis is { } analysis)
        {
            ValidateAnalysis(analysis, c);
            if (spec.Backends.Count == 1)
                c.Add("spec.backends", "a progressive canary (spec.analysis) needs at least two backends: the stable ones first, the canary last");
        }
    }

    private static void ValidateBackends(List<SplitBackend> backends, ValidationCollector c)
    {
        if (backends.Count == 0)
        {
            c.Add("spec.backends", "needs at least one backend (service, optional cluster, weight)");
            return;
        }
        var seen = new Dictionary<(string, string), int>();
        long sum = 0;
        for (var i = 0; i < backends.Count; i++)
        {
            var path = ValidationCollector.Index("spec.backends", i);
            var backend = backends[i];
            if (backend is null) { c.Add(path, "must not be empty"); continue; }
            FieldChecks.DnsLabel(c, path + ".service", backend.Service);
            FieldChecks.DnsLabel(c, path + ".cluster", backend.Cluster, required: false);
            FieldChecks.Range(c, path + ".weight", backend.Weight, 0, 100);
            sum += Math.Max(0, backend.Weight);
            var key = (backend.Service ?? "", backend.Cluster ?? "");
            if (seen.TryGetValue(key, out var first))
                c.Add(path, $"duplicates spec.backends[{first}] (service \"{key.Item1}\"{(key.Item2.Length > 0 ? $" in cluster \"{key.Item2}\"" : "")}); merge them into one backend");
            else
                seen[key] = i;
        }
        if (sum == 0)
            c.Add("spec.backends", "the weights sum to 0, so no traffic could be sent; give at least one backend a weight above 0");
    }

    private static void ValidateAnalysis(CanaryAnalysis analysis, ValidationCollector c)
    {
        FieldChecks.Range(c, "spec.analysis.stepWeight", analysis.StepWeight, 1, 100);
        FieldChecks.Range(c, "spec.analysis.maxWeight", analysis.MaxWeight, 1, 100);
        if (analysis.MaxWeight < analysis.StepWeight && analysis.StepWeight is >= 1 and <= 100)
            c.Add("spec.analysis.maxWeight", $"must be at least stepWeight ({analysis.StepWeight}) (got {analysis.MaxWeight})");
        FieldChecks.Duration(c, "spec.analysis.interval", analysis.Interval);
        if (analysis.Threshold < 1)
            c.Add("spec.analysis.threshold", $"must be at least 1 (got {analysis.Threshold})");
        if (analysis.SuccessRate is { } successRate)
            FieldChecks.Range(c, "spec.analysis.successRate.min", successRate.Min, 0, 100);
        if (analysis.LatencyP99 is { } latency)
            FieldChecks.Duration(c, "spec.analysis.latencyP99.max", latency.Max);
    }
}
