using System.CommandLine;
using FedMesh.Core.Resources;
using FedMesh.Core.Yaml;
using Spectre.Console;

namespace FedMesh.Linker.Commands;

/// <summary><c>fedmesh get KIND [NAME]</c>: resources of one kind, in one cluster or all of them.</summary>
internal static class GetCommand
{
    public const string ClusterAnnotation = "fedmesh.io/cluster";

    public static Command Build()
    {
        var kind = new Argument<string>("kind") { Description = "services (svc), endpoints (ep), links, trafficsplits (splits), failoverpolicies (failover)" };
        var name = new Argument<string?>("name") { Description = "Only this resource", Arity = ArgumentArity.ZeroOrOne };
        var cluster = GlobalOptions.Cluster("Only this cluster (default: every cluster)");
        var ns = GlobalOptions.Namespace();
        var command = new Command("get", "List resources") { kind, name, cluster, ns };
        command.SetAction(async (parse, ct) =>
        {
            var k = Kind(parse.GetValue(kind)!);
            using var federation = Federation.Load(GlobalOptions.Paths(parse));
            var clusters = parse.GetValue(cluster) is { } only ? [federation.Cluster(only)] : federation.Config.Clusters;
            var rows = new List<(string Cluster, Resource Resource)>();
            var endpoints = new Dictionary<(string, string, string), Endpoints>();
            foreach (var c in clusters)
            {
                var store = federation.Store(c);
                foreach (var r in await StoreByKind.ListAsync(store, k, parse.GetValue(ns), ct).ConfigureAwait(false))
                    if (parse.GetValue(name) is not { } wanted || r.Name == wanted) rows.Add((c.Name, r));
                if (k == ResourceKinds.Service)
                    foreach (var e in await store.ListAsync<Endpoints>(parse.GetValue(ns), ct).ConfigureAwait(false))
                        endpoints[(c.Name, e.Namespace, e.Name)] = e;
            }
            if (parse.GetValue(name) is { } missing && rows.Count == 0)
                throw new CliException($"{k.Kind.ToLowerInvariant()} '{missing}' not found in {(clusters.Count == 1 ? "cluster " + clusters[0].Name : "any cluster")}");
            Write(parse.GetValue(GlobalOptions.Output), k, rows, endpoints);
            return ExitCodes.Success;
        });
        return command;
    }

    internal static ResourceKind Kind(string name) =>
        ResourceKinds.Find(name) ?? throw new CliException($"unknown kind '{name}'; known kinds: {string.Join(", ", ResourceKinds.All.Select(k => k.Plural))}", ExitCodes.Usage);

    private static void Write(OutputFormat format, ResourceKind kind, List<(string Cluster, Resource Resource)> rows, Dictionary<(string, string, string), Endpoints> endpoints)
    {
        foreach (var (cluster, r) in rows)
            (r.Metadata.Annotations ??= new())[ClusterAnnotation] = cluster;
        if (format == OutputFormat.Yaml)
        {
            Console.Out.Write(ResourceCodec.Encode(rows.Select(r => r.Resource)));
            return;
        }
        var time = TimeProvider.System;
        Output.Write(format, new { apiVersion = "v1", kind = "List", items = rows.Select(r => (object)r.Resource).ToList() }, () => kind.Kind switch
        {
            "Service" => Rows(Output.Plain("CLUSTER", "NAMESPACE", "NAME", "EXPORTED", "MIRRORED-FROM", "ENDPOINTS", "AGE"), rows, (c, r) =>
            {
                var mirrorOf = r.Metadata.Label(WellKnown.MirrorOfLabel);
                var from = mirrorOf is null ? "-" : $"{r.Metadata.Label(WellKnown.MirrorClusterLabel)}/{mirrorOf}";
                var ep = endpoints.TryGetValue((c, r.Namespace, r.Name), out var e) ? $"{e.Spec.Endpoints.Count(x => x.Ready)}/{e.Spec.Endpoints.Count}" : "0/0";
                return [c, r.Namespace, r.Name, WellKnown.IsExported(r) ? "yes" : "no", from, ep, Output.Age(r.Metadata.CreationTimestamp, time)];
            }),
            "Endpoints" => Rows(Output.Plain("CLUSTER", "NAMESPACE", "NAME", "ENDPOINTS"), rows, (c, r) =>
                [c, r.Namespace, r.Name, string.Join(",", ((Endpoints)r).Spec.Endpoints.Select(e => e.Ready ? e.Address : e.Address + "(not ready)"))]),
            "Link" => Rows(Output.Plain("CLUSTER", "NAME", "TARGET", "MIRROR", "GATEWAY", "ALIVE", "SERVICES", "AGE"), rows, (c, r) =>
            {
                var l = (FedMesh.Core.Resources.Link)r;
                var alive = l.Status?.Alive is { } a ? (a ? "yes" : "no") : "-";
                return [c, l.Name, l.Spec.TargetCluster, l.Spec.Mirror ? "yes" : "no", l.Spec.GatewayAddress, alive, (l.Status?.MirroredServices ?? 0).ToString(), Output.Age(r.Metadata.CreationTimestamp, time)];
            }),
            "TrafficSplit" => Rows(Output.Plain("CLUSTER", "NAMESPACE", "NAME", "SERVICE", "BACKENDS", "PHASE"), rows, (c, r) =>
            {
                var t = (TrafficSplit)r;
                return [c, t.Namespace, t.Name, t.Spec.Service, string.Join(" ", t.Spec.Backends.Select(b => $"{b.Service}@{b.Cluster ?? c}={b.Weight}")), t.Status?.Phase ?? "-"];
            }),
            _ => Rows(Output.Plain("CLUSTER", "NAMESPACE", "NAME", "SERVICE", "TARGETS", "ACTIVE"), rows, (c, r) =>
            {
                var f = (FailoverPolicy)r;
                return [c, f.Namespace, f.Name, f.Spec.Service, string.Join(",", f.Spec.Targets.Select(t => t.Cluster)), f.Status?.ActiveTarget ?? "-"];
            }),
        });
    }

    private static Table Rows(Table table, List<(string Cluster, Resource Resource)> rows, Func<string, Resource, string[]> cells)
    {
        foreach (var (cluster, r) in rows) table.Row(cells(cluster, r));
        return table;
    }
}
