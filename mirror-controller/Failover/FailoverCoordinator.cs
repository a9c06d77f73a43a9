using System.Globalization;
using System.Threading.Channels;
using FedMesh.Core.Common;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.MirrorController.Discovery;
using FedMesh.MirrorController.Probing;
using FedMesh.MirrorController.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FedMesh.MirrorController.Failover;

/// <summary>
/// Decides the active target of every FailoverPolicy of the cluster at each discovery build (so the snapshot
/// carries it) and records why in the policy's status. Owns failback hysteresis: when a failback becomes due
/// without any other change, its timer raises <see cref="Changed"/> so discovery builds again.
/// Status writes go through a queue to this service's loop, never from the build.
/// </summary>
internal sealed partial class FailoverCoordinator(IClusterStore store, GatewayHealthBook book, IRequestStatsView stats, TimeProvider time, ILoggerFactory loggers) : BackgroundService
{
    public const string TargetsLinkedCondition = "TargetsLinked";

    /// <summary>How often policies with SLO triggers are judged again while nothing else changes.</summary>
    public static readonly TimeSpan SloPeriod = TimeSpan.FromSeconds(1);
    private readonly Dictionary<string, Entry> _policies = new(StringComparer.Ordinal);
    private readonly Channel<StatusUpdate> _writes = Channel.CreateUnbounded<StatusUpdate>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ILogger _logger = loggers.CreateLogger("FedMesh.MirrorController.Failover");
    private readonly Lock _lock = new();
    private ITimer? _wake;

    /// <summary>A failback became due: discovery should build again.</summary>
    public event Action? Changed;

    /// <summary>Active target index by "namespace/service" for the routes of this build.</summary>
    public Dictionary<string, uint> Evaluate(ModelView model, string cluster)
    {
        var now = time.GetUtcNow();
        var result = new Dictionary<string, uint>(StringComparer.Ordinal);
        var linked = new HashSet<string>(model.Links.Where(l => l.Spec.Mirror).Select(l => l.Spec.TargetCluster), StringComparer.Ordinal);
        DateTimeOffset? nextWake = null;
        lock (_lock)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var policy in model.FailoverPolicies.OrderBy(p => p.Namespace, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal))
            {
                var spec = policy.Spec;
                if (spec.Service.Length == 0 || spec.Targets.Count == 0)
                    continue;
                var key = policy.Namespace + "/" + policy.Name;
                seen.Add(key);
                var entry = EntryFor(key, policy);
                var shares = new int[spec.Targets.Count];
                for (var i = 0; i < shares.Length; i++)
                    shares[i] = TargetHealth.HealthyPercent(model, book, policy.Namespace, spec.Service, spec.Targets[i].Cluster, cluster);
                string?[]? breaches = null;
                if (entry.Slo is { } slo)
                {
                    breaches = new string?[spec.Targets.Count];
                    for (var i = 0; i < breaches.Length; i++)
                        breaches[i] = slo.Breach(stats, policy.Namespace, spec.Service, BackendOf(spec.Service, spec.Targets[i].Cluster, cluster));
                    if (nextWake is null || now + SloPeriod < nextWake)
                        nextWake = now + SloPeriod;
                }
                var moved = entry.Machine.Evaluate(shares, now, breaches);
                if (moved)
                    LogMoved(_logger, key, entry.Machine.Targets[entry.Machine.Active], entry.Machine.Reason);
                var unlinked = spec.Targets.Select(t => t.Cluster).Where(c => c.Length > 0 && c != cluster && !linked.Contains(c)).Distinct().ToList();
                var condition = unlinked.Count == 0
                    ? ("True", "AllTargetsLinked", "every target cluster is linked")
                    : ("False", "TargetNotLinked", $"cluster(s) {string.Join(", ", unlinked)} not linked to cluster '{cluster}': they get no traffic until 'fedmesh link {cluster} <cluster>'");
                if (moved || entry.Condition != condition || !entry.Written)
                {
                    entry.Condition = condition;
                    entry.Written = true;
                    _writes.Writer.TryWrite(new StatusUpdate(policy.Namespace, policy.Name, entry.Machine.Targets[entry.Machine.Active], entry.Machine.Since, entry.Machine.Reason, condition));
                }
                if (!result.ContainsKey(policy.Namespace + "/" + spec.Service))
                    result[policy.Namespace + "/" + spec.Service] = (uint)entry.Machine.Active;
                if (entry.Machine.FailbackDue() is { } due && (nextWake is null || due < nextWake))
                    nextWake = due;
            }
            foreach (var gone in _policies.Keys.Where(k => !seen.Contains(k)).ToList())
                _policies.Remove(gone);
            ScheduleWake(nextWake, now);
        }
        return result;
    }

    /// <summary>The service a target's traffic goes to: the service itself here, its mirror elsewhere.</summary>
    private static string BackendOf(string service, string targetCluster, string cluster) =>
        string.IsNullOrEmpty(targetCluster) || targetCluster == cluster ? service : WellKnown.MirrorName(service, targetCluster);

    private Entry EntryFor(string key, FailoverPolicy policy)
    {
        var spec = policy.Spec;
        var targets = spec.Targets.Select(t => t.Cluster).ToArray();
        var min = spec.Trigger?.MinHealthyPercent ?? new FailoverTrigger().MinHealthyPercent;
        var after = DurationParser.TryParse(spec.Failback?.After ?? new FailbackSpec().After, out var a, out _) ? a : TimeSpan.FromSeconds(30);
        var trigger = spec.Trigger;
        var shape = string.Join(",", targets) + "|" + min + "|" + after.Ticks + "|" + trigger?.MaxErrorRate + "|" + trigger?.MaxLatencyP99 + "|" + trigger?.Window;
        if (_policies.TryGetValue(key, out var entry) && entry.Shape == shape)
            return entry;
        var machine = new FailoverStateMachine(targets, min, after);
        if (policy.Status is { ActiveTarget: { } active, Since: { } since }
            && DateTimeOffset.TryParse(since, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            machine.Restore(active, at, policy.Status.Reason);
        entry = new Entry(shape, machine) { Written = policy.Status?.ActiveTarget is not null, Slo = SloTrigger.From(trigger) };
        _policies[key] = entry;
        return entry;
    }

    // Under _lock.
    private void ScheduleWake(DateTimeOffset? due, DateTimeOffset now)
    {
        _wake?.Dispose();
        _wake = null;
        if (due is null)
            return;
        var delay = due.Value - now;
        _wake = time.CreateTimer(static s => ((FailoverCoordinator)s!).Changed?.Invoke(), this,
            delay > TimeSpan.Zero ? delay + TimeSpan.FromMilliseconds(10) : TimeSpan.FromMilliseconds(10), Timeout.InfiniteTimeSpan);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var update in _writes.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    await WriteAsync(update, stoppingToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogWriteFailed(_logger, update.Namespace + "/" + update.Name, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            lock (_lock)
                _wake?.Dispose();
        }
    }

    private Task WriteAsync(StatusUpdate update, CancellationToken cancellationToken)
    {
        var since = update.Since.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        var now = time.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return store.MutateAsync<FailoverPolicy>(update.Namespace, update.Name, current =>
        {
            if (current is null)
                return null;
            current.Status ??= new FailoverPolicyStatus();
            current.Status.ActiveTarget = update.ActiveTarget;
            current.Status.Since = since;
            current.Status.Reason = update.Reason;
            current.Status.Conditions ??= [];
            var condition = current.Status.Conditions.Find(c => c.Type == TargetsLinkedCondition);
            if (condition is null)
                current.Status.Conditions.Add(condition = new Condition { Type = TargetsLinkedCondition });
            if (condition.Status != update.Condition.Status || condition.LastTransitionTime is null)
                condition.LastTransitionTime = now;
            (condition.Status, condition.Reason, condition.Message) = update.Condition;
            return current;
        }, cancellationToken);
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "failover policy {Policy}: active target {Target} ({Reason})")]
    private static partial void LogMoved(ILogger logger, string policy, string target, string reason);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "cannot write the status of failover policy {Policy}: {Error}")]
    private static partial void LogWriteFailed(ILogger logger, string policy, string error);

    private sealed class Entry(string shape, FailoverStateMachine machine)
    {
        public string Shape { get; } = shape;
        public FailoverStateMachine Machine { get; } = machine;
        public (string Status, string Reason, string Message) Condition { get; set; }
        public bool Written { get; set; }
        public SloTrigger? Slo { get; init; }
    }

    private sealed record StatusUpdate(string Namespace, string Name, string ActiveTarget, DateTimeOffset Since, string Reason,
        (string Status, string Reason, string Message) Condition);
}
