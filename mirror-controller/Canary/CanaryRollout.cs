using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using FedMesh.Core.Canary;
using FedMesh.Core.Common;
using FedMesh.Core.Resources;

namespace FedMesh.MirrorController.Canary;

/// <summary>
/// The progressive canary's state machine. Everything it needs to resume lives in the split's status
/// (phase, weights, failed checks, time of the last check), so a restarted controller continues where
/// the last one stopped. Each call is a pure function of (split, clock, measured stats): the controller
/// may call it again on a fresher copy when a compare-and-swap write loses.
/// </summary>
/// <remarks>
/// Start: the canary (last backend) gets its current weight plus one step. Every interval: if every
/// check passes, one more step (capped at maxWeight), and a pass at maxWeight promotes (canary 100 %).
/// A failed check, or one without enough requests ("no data"), holds the weight and counts; at
/// <c>threshold</c> failed checks the rollout rolls back (canary 0 %, the rest as in spec).
/// </remarks>
internal sealed class CanaryRollout(CanaryAnalyzer analyzer, CanaryOptions options, TimeProvider time)
{
    /// <summary>
    /// The status to write, or null when nothing is due. Checks whose window would begin before
    /// <paramref name="collectingSince"/> (when this controller began receiving stats) wait.
    /// </summary>
    public TrafficSplitStatus? Next(TrafficSplit split, string cluster, DateTimeOffset collectingSince)
    {
        var now = time.GetUtcNow();
        if (DueAt(split, collectingSince) is not { } due || now < due)
            return null;
        var analysis = split.Spec.Analysis!;
        var interval = Interval(analysis)!.Value;
        var status = split.Status;
        if (!IsStarted(status))
            return Start(split, analysis, cluster, now);

        var verdict = analyzer.Analyze(split, cluster, interval + options.ReportLag);
        var weight = SplitWeights.CanaryWeight(status.Weights!);
        var canary = SplitWeights.Describe(split.Spec.Backends[^1], cluster);
        var next = Copy(status, now, verdict.Summary);
        if (verdict.Passed)
        {
            if (weight >= analysis.MaxWeight)
                return Finish(next, split, CanaryPhases.Promoted, SplitWeights.Total, now, $"promoted: {canary} {weight}% -> 100% after the check at maxWeight {verdict.Summary}");
            var raised = Math.Min(analysis.MaxWeight, weight + analysis.StepWeight);
            next.Weights = SplitWeights.WithCanaryWeight(split.Spec.Backends, raised);
            return Record(next, now, $"step: {canary} {weight}% -> {raised}%, check {verdict.Summary}");
        }

        next.FailedChecks = (status.FailedChecks ?? 0) + 1;
        if (next.FailedChecks >= analysis.Threshold)
            return Finish(next, split, CanaryPhases.RolledBack, 0, now,
                $"rolled back: {canary} {weight}% -> 0% after {next.FailedChecks} failed checks (threshold {analysis.Threshold}); last check {verdict.Summary}");
        return Record(next, now, $"hold: {canary} stays at {weight}% ({next.FailedChecks}/{analysis.Threshold} failed checks), check {verdict.Summary}");
    }

    /// <summary>
    /// When <see cref="Next"/> has something to write for <paramref name="split"/>: at once (<see cref="DateTimeOffset.MinValue"/>)
    /// for a rollout to start, the next check's time for one in progress, null for none (no analysis, a final phase).
    /// </summary>
    public static DateTimeOffset? DueAt(TrafficSplit split, DateTimeOffset collectingSince)
    {
        if (split.Spec.Analysis is not { } analysis || split.Spec.Backends.Count < 2 || CanaryPhases.IsFinal(split.Status?.Phase))
            return null;
        if (Interval(analysis) is not { } interval)
            return null;
        if (!IsStarted(split.Status))
            return DateTimeOffset.MinValue;
        var last = ParseTime(split.Status.LastCheckTime) ?? DateTimeOffset.MinValue;
        return (last > collectingSince ? last : collectingSince) + interval;
    }

    private static TimeSpan? Interval(CanaryAnalysis analysis) =>
        DurationParser.TryParse(analysis.Interval, out var interval, out _) && interval > TimeSpan.Zero ? interval : null;

    private static bool IsStarted([NotNullWhen(true)] TrafficSplitStatus? status) => status?.Phase == CanaryPhases.Progressing && status.Weights is { Count: > 0 };

    private TrafficSplitStatus Start(TrafficSplit split, CanaryAnalysis analysis, string cluster, DateTimeOffset now)
    {
        var first = Math.Min(analysis.MaxWeight, SplitWeights.CanaryWeight(split.Spec.Backends) + analysis.StepWeight);
        var status = new TrafficSplitStatus
        {
            Phase = CanaryPhases.Progressing,
            Weights = SplitWeights.WithCanaryWeight(split.Spec.Backends, first),
            FailedChecks = 0,
            LastCheckTime = Format(now),
            LastAnalysis = $"started; first check after {analysis.Interval}",
        };
        return Record(status, now, $"started: {SplitWeights.Describe(split.Spec.Backends[^1], cluster)} -> {first}% (step {analysis.StepWeight}%, max {analysis.MaxWeight}%, every {analysis.Interval}, threshold {analysis.Threshold})");
    }

    private TrafficSplitStatus Finish(TrafficSplitStatus next, TrafficSplit split, string phase, int canaryWeight, DateTimeOffset now, string what)
    {
        next.Phase = phase;
        next.Weights = SplitWeights.WithCanaryWeight(split.Spec.Backends, canaryWeight);
        next.Conditions = [new Condition
        {
            Type = "Ready",
            Status = phase == CanaryPhases.Promoted ? "True" : "False",
            Reason = phase,
            Message = next.LastAnalysis,
            LastTransitionTime = Format(now),
        }];
        return Record(next, now, what);
    }

    private TrafficSplitStatus Record(TrafficSplitStatus status, DateTimeOffset now, string what)
    {
        var history = status.History ?? [];
        history.Add($"{Format(now)} {what}");
        if (history.Count > options.HistoryLimit)
            history.RemoveRange(0, history.Count - Math.Max(1, options.HistoryLimit));
        status.History = history;
        return status;
    }

    private static TrafficSplitStatus Copy(TrafficSplitStatus status, DateTimeOffset now, string analysis) => new()
    {
        Phase = status.Phase,
        Weights = status.Weights?.Select(b => new SplitBackend { Service = b.Service, Cluster = b.Cluster, Weight = b.Weight }).ToList(),
        FailedChecks = status.FailedChecks ?? 0,
        LastCheckTime = Format(now),
        LastAnalysis = $"{Format(now)} {analysis}",
        History = status.History is null ? null : [.. status.History],
        Conditions = status.Conditions,
    };

    private static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    private static DateTimeOffset? ParseTime(string? s) =>
        DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
}
