using System.Globalization;
using System.Text.RegularExpressions;
using FedMesh.Core.Canary;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Core.Validation;

namespace FedMesh.Linker.Commands;

/// <summary>
/// Finding and rewriting the TrafficSplit of a service for <c>fedmesh canary</c>. Every edit is
/// computed from the weights in effect, validated and checked against the cluster (backends exist)
/// before it is written by compare-and-swap; a refused edit changes nothing.
/// </summary>
internal static partial class CanarySplits
{
    [GeneratedRegex("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    /// <summary>The split that routes <paramref name="service"/> (the first by name, as the controller picks), or null.</summary>
    public static async Task<TrafficSplit?> FindAsync(IClusterStore store, string ns, string service, CancellationToken ct) =>
        (await store.ListAsync<TrafficSplit>(ns, ct).ConfigureAwait(false))
            .Where(s => s.Spec.Service == service).OrderBy(s => s.Name, StringComparer.Ordinal).FirstOrDefault();

    public static async Task<TrafficSplit> RequireAsync(IClusterStore store, string ns, string service, CancellationToken ct) =>
        await FindAsync(store, ns, service, ct).ConfigureAwait(false)
        ?? throw new CliException($"no TrafficSplit routes service '{service}' in cluster {store.Cluster} (namespace {ns}); create one with 'fedmesh canary shift {service} --to {service}@CLUSTER --weight N' or 'fedmesh apply -f'");

    /// <summary>"web@west" or "web" (this cluster).</summary>
    public static SplitBackend ParseTarget(string text)
    {
        var at = text.IndexOf('@');
        var service = at < 0 ? text : text[..at];
        var cluster = at < 0 ? null : text[(at + 1)..];
        if (!DnsLabel().IsMatch(service) || (cluster is not null && !DnsLabel().IsMatch(cluster)))
            throw new CliException($"--to '{text}' is not SERVICE@CLUSTER (or SERVICE for this cluster) with lower-case DNS labels, e.g. web-v2@west", ExitCodes.Usage);
        return new SplitBackend { Service = service, Cluster = cluster };
    }

    /// <summary>
    /// Writes <paramref name="edit"/>(current split or null) as the split of <paramref name="service"/>,
    /// after validating the result and checking its backends exist. <paramref name="edit"/> runs again on a
    /// fresher copy if someone else wrote in between, so it must be a function of what it is given.
    /// </summary>
    public static async Task<TrafficSplit> EditAsync(IClusterStore store, string ns, string service, string what,
        Func<TrafficSplit?, TrafficSplit> edit, CancellationToken ct)
    {
        var existing = await FindAsync(store, ns, service, ct).ConfigureAwait(false);
        var name = existing?.Name ?? service;
        var draft = Edited(existing, edit, ns, name);
        var errors = ResourceValidator.Validate(draft);
        if (errors.Count > 0)
            throw new CliException($"{what} was refused; nothing changed:\n" + string.Join("\n", errors.Select(e => $"  trafficsplit/{name}: {e}")));
        await SplitBackendCheck.EnsureAsync(store, draft, what, ct).ConfigureAwait(false);
        return (await store.MutateAsync<TrafficSplit>(ns, name, current => Edited(current, edit, ns, name), ct).ConfigureAwait(false))!;
    }

    private static TrafficSplit Edited(TrafficSplit? current, Func<TrafficSplit?, TrafficSplit> edit, string ns, string name)
    {
        var result = edit(current);
        result.Metadata.Name = name;
        result.Metadata.Namespace = ns;
        return result;
    }

    /// <summary>A status for a hand-made change: the given phase, the earlier history plus one line.</summary>
    public static TrafficSplitStatus ManualStatus(TrafficSplit? current, string phase, string line, TimeProvider time)
    {
        var history = current?.Status?.History is { } h ? new List<string>(h) : [];
        history.Add($"{time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture)} {line}");
        if (history.Count > 20) history.RemoveRange(0, history.Count - 20);
        return new TrafficSplitStatus { Phase = phase, History = history, LastAnalysis = current?.Status?.LastAnalysis };
    }

    /// <summary>The weights in effect, or the service alone with all the traffic when no split exists.</summary>
    public static IReadOnlyList<SplitBackend> CurrentWeights(TrafficSplit? split, string service) =>
        split is null ? [new SplitBackend { Service = service, Weight = SplitWeights.Total }] : SplitWeights.Effective(split);

    public static string Describe(IEnumerable<SplitBackend> backends, string cluster) =>
        string.Join(" ", backends.Select(b => $"{SplitWeights.Describe(b, cluster)}={b.Weight}"));
}
