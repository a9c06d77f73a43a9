using System.CommandLine;
using FedMesh.Core.Federation;
using FedMesh.Core.Identity;
using FedMesh.Core.Resources;
using FedMesh.Core.Store;
using FedMesh.Linker.Kubernetes;
using FedMesh.Linker.Local;

namespace FedMesh.Linker.Commands;

/// <summary>
/// <c>fedmesh link A B</c> and <c>unlink</c>. A link lives in the cluster that mirrors: A gets a Link
/// to B (A mirrors B's exported services); B gets a Link to A that mirrors A too, or with
/// <c>--one-way</c> only admits A's traffic at B's gateway.
/// </summary>
internal static class LinkCommands
{
    public static Command BuildLink()
    {
        var a = new Argument<string>("cluster") { Description = "The cluster that mirrors" };
        var b = new Argument<string>("target") { Description = "The cluster whose exported services are mirrored" };
        var oneWay = new Option<bool>("--one-way") { Description = $"Only the first cluster mirrors the second" };
        var wait = new Option<bool>("--wait") { Description = "Wait until the mirrors exist (default)", DefaultValueFactory = _ => true };
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the mirrors", DefaultValueFactory = _ => 60 };
        var gateway = new Option<string[]>("--gateway-address") { Description = "Kubernetes: [CLUSTER=]HOST:PORT of a gateway without a LoadBalancer address (default CLUSTER: the target)" };
        var command = new Command("link", "Link two clusters: each mirrors the other's exported services (--one-way: only the first)") { a, b, oneWay, wait, timeout, gateway };
        command.SetAction((parse, ct) => LinkAsync(GlobalOptions.Paths(parse), parse.GetValue(a)!, parse.GetValue(b)!, parse.GetValue(oneWay), parse.GetValue(wait), TimeSpan.FromSeconds(parse.GetValue(timeout)), parse.GetValue(gateway) ?? [], ct));
        return command;
    }

    public static Command BuildUnlink()
    {
        var a = new Argument<string>("cluster");
        var b = new Argument<string>("target");
        var timeout = new Option<int>("--timeout") { Description = "Seconds to wait for the mirrors to go", DefaultValueFactory = _ => 60 };
        var command = new Command("unlink", "Remove the link between two clusters and every mirror it made") { a, b, timeout };
        command.SetAction((parse, ct) => UnlinkAsync(GlobalOptions.Paths(parse), parse.GetValue(a)!, parse.GetValue(b)!, TimeSpan.FromSeconds(parse.GetValue(timeout)), ct));
        return command;
    }

    private static async Task<int> LinkAsync(FederationPaths paths, string aName, string bName, bool oneWay, bool wait, TimeSpan timeout, string[] gateways, CancellationToken ct)
    {
        using var federation = Federation.Load(paths);
        var (a, b) = Pair(federation, aName, bName);
        if (KubernetesLinking.Applies(a, b))
        {
            await KubernetesLinking.LinkAsync(federation, a, b, oneWay, new GatewayAddresses(gateways, b.Name), ct).ConfigureAwait(false);
            Console.WriteLine(oneWay ? $"Linked {a.Name} -> {b.Name}" : $"Linked {a.Name} <-> {b.Name}");
            if (wait)
                foreach (var (mirroring, target) in oneWay ? [(a, b)] : new[] { (a, b), (b, a) })
                    await WaitMirrorsAsync(federation.Store(mirroring), federation.Store(target), mirroring.Name, target.Name, present: true, timeout, ct).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        var storeA = federation.Store(a);
        var storeB = federation.Store(b);
        // The target side first: b's gateway admits a before a starts mirroring b and probing its gateway.
        await storeB.ApplyAsync(NewLink(federation.Config, a, mirror: !oneWay), ct).ConfigureAwait(false);
        await storeA.ApplyAsync(NewLink(federation.Config, b, mirror: true), ct).ConfigureAwait(false);
        Console.WriteLine(oneWay ? $"Linked {a.Name} -> {b.Name} ({a.Name} mirrors {b.Name}; {b.Name} admits {a.Name}'s traffic)" : $"Linked {a.Name} <-> {b.Name}");
        if (!wait) return ExitCodes.Success;

        var waits = new List<(ClusterConfig Mirroring, ClusterConfig Target)> { (a, b) };
        if (!oneWay) waits.Add((b, a));
        foreach (var (mirroring, target) in waits)
        {
            if (!await ControllerReadyAsync(paths, federation.Config, mirroring, ct).ConfigureAwait(false))
            {
                Console.WriteLine($"  {mirroring.Name}'s controller is not ready: its mirrors of {target.Name} will appear when it runs.");
                continue;
            }
            await WaitMirrorsAsync(federation.Store(mirroring), federation.Store(target), mirroring.Name, target.Name, present: true, timeout, ct).ConfigureAwait(false);
        }
        return ExitCodes.Success;
    }

    private static async Task<int> UnlinkAsync(FederationPaths paths, string aName, string bName, TimeSpan timeout, CancellationToken ct)
    {
        using var federation = Federation.Load(paths);
        var (a, b) = Pair(federation, aName, bName);
        if (KubernetesLinking.Applies(a, b))
        {
            if (!await KubernetesLinking.UnlinkAsync(a, b, ct).ConfigureAwait(false)) throw new CliException($"{a.Name} and {b.Name} are not linked");
            Console.WriteLine($"Unlinked {a.Name} and {b.Name}");
            foreach (var (mirroring, target) in new[] { (a, b), (b, a) })
                await WaitMirrorsAsync(federation.Store(mirroring), federation.Store(target), mirroring.Name, target.Name, present: false, timeout, ct).ConfigureAwait(false);
            return ExitCodes.Success;
        }
        var removedA = await federation.Store(a).DeleteAsync<Link>(WellKnown.SystemNamespace, b.Name, cancellationToken: ct).ConfigureAwait(false);
        var removedB = await federation.Store(b).DeleteAsync<Link>(WellKnown.SystemNamespace, a.Name, cancellationToken: ct).ConfigureAwait(false);
        if (!removedA && !removedB) throw new CliException($"{a.Name} and {b.Name} are not linked");
        Console.WriteLine($"Unlinked {a.Name} and {b.Name}");
        foreach (var (mirroring, target) in new[] { (a, b), (b, a) })
        {
            if (await ControllerReadyAsync(paths, federation.Config, mirroring, ct).ConfigureAwait(false))
                await WaitMirrorsAsync(federation.Store(mirroring), federation.Store(target), mirroring.Name, target.Name, present: false, timeout, ct).ConfigureAwait(false);
        }
        return ExitCodes.Success;
    }

    private static (ClusterConfig A, ClusterConfig B) Pair(Federation federation, string a, string b)
    {
        var ca = federation.Cluster(a);
        var cb = federation.Cluster(b);
        if (ca.Name == cb.Name) throw new CliException($"cannot link cluster '{a}' to itself", ExitCodes.Usage);
        return (ca, cb);
    }

    internal static Link NewLink(FederationConfig config, ClusterConfig target, bool mirror) => new()
    {
        Metadata = new ObjectMeta { Name = target.Name, Namespace = WellKnown.SystemNamespace },
        Spec = new LinkSpec
        {
            TargetCluster = target.Name,
            GatewayAddress = PartPlanner.Addr(target.Gateway.Port),
            GatewayIdentity = new SpiffeId(config.TrustDomain, target.Name, WellKnown.SystemNamespace, "gateway").ToString(),
            Mirror = mirror,
            Probe = new ProbeSpec(),
        },
    };

    /// <summary>
    /// True once the cluster's controller answers ready. While the local federation is running, a
    /// controller still starting (or restarting) is waited for, up to <see cref="ControllerStartGrace"/>.
    /// </summary>
    private static async Task<bool> ControllerReadyAsync(FederationPaths paths, FederationConfig config, ClusterConfig cluster, CancellationToken ct)
    {
        var url = $"http://{PartPlanner.Addr(cluster.Controller.AdminPort)}/ready";
        var deadline = TimeProvider.System.GetUtcNow() + ControllerStartGrace;
        while (true)
        {
            if (await Readiness.IsReadyAsync(url, ct).ConfigureAwait(false)) return true;
            if (LocalRuntime.SupervisorPid(paths) == 0 || TimeProvider.System.GetUtcNow() > deadline) return false;
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, ct).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan ControllerStartGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Waits until <paramref name="mirroring"/> holds a mirror of every exported service of the target (or none of them),
    /// with progress. On linking, a mirror counts once its Endpoints are written too (the mirror controller writes the
    /// Service first): a caller who sends a request as soon as <c>link</c> returns must find somewhere to send it.
    /// </summary>
    internal static async Task WaitMirrorsAsync(IClusterStore mirroring, IClusterStore target, string mirroringName, string targetName, bool present, TimeSpan timeout, CancellationToken ct)
    {
        var time = TimeProvider.System;
        var deadline = time.GetUtcNow() + timeout;
        var last = -1;
        while (true)
        {
            var exported = (await target.ListAsync<Service>(cancellationToken: ct).ConfigureAwait(false))
                .Where(s => WellKnown.IsExported(s) && s.Metadata.Label(WellKnown.MirrorOfLabel) is null).ToList();
            var mirrorEndpoints = present
                ? (await mirroring.ListAsync<Endpoints>(cancellationToken: ct).ConfigureAwait(false))
                    .Where(e => e.Metadata.Label(WellKnown.MirrorClusterLabel) == targetName)
                    .Select(e => (e.Namespace, e.Name)).ToHashSet()
                : [];
            var allMirrors = (await mirroring.ListAsync<Service>(cancellationToken: ct).ConfigureAwait(false))
                .Where(s => s.Metadata.Label(WellKnown.MirrorClusterLabel) == targetName).ToList();
            var mirrors = present ? allMirrors.Where(m => mirrorEndpoints.Contains((m.Namespace, m.Name))).ToList() : allMirrors;
            var done = present
                ? exported.All(e => mirrors.Any(m => m.Namespace == e.Namespace && m.Name == WellKnown.MirrorName(e.Name, targetName)))
                : mirrors.Count == 0;
            if (mirrors.Count != last)
            {
                Console.WriteLine(present
                    ? $"  {mirroringName}: {mirrors.Count}/{exported.Count} services of {targetName} mirrored"
                    : $"  {mirroringName}: {mirrors.Count} mirrors of {targetName} left");
                last = mirrors.Count;
            }
            if (done) return;
            if (time.GetUtcNow() > deadline)
                throw new CliException(present
                    ? $"{mirroringName} has not mirrored {targetName}'s services after {timeout.TotalSeconds:0} s; check 'fedmesh get links --cluster {mirroringName}' and the controller's log"
                    : $"{mirroringName} still has {mirrors.Count} mirrors of {targetName} after {timeout.TotalSeconds:0} s; check the controller's log");
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, ct).ConfigureAwait(false);
        }
    }
}
