using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Serialization;
using FedMesh.Core.Resources;
using k8s.Models;

namespace FedMesh.Core.Store.Kubernetes;

/// <summary>
/// Our Endpoints ↔ one EndpointSlice (discovery.k8s.io/v1) of the same name and namespace:
/// <list type="bullet">
/// <item>labels <c>kubernetes.io/service-name: NAME</c> and <c>endpointslice.kubernetes.io/managed-by: fedmesh.io</c>
/// (only slices with that managed-by label are ours; slices of other controllers are not listed);</item>
/// <item>each entry is one slice endpoint in the same order: host in <c>addresses[0]</c>,
/// <c>ready</c> in <c>conditions.ready</c>, <c>zone</c>, <c>instance</c> as <c>targetRef</c> (Pod) name;</item>
/// <item><c>addressType</c> IPv4, IPv6 or FQDN from the hosts (one family per slice, as Kubernetes requires);</item>
/// <item>slice <c>ports</c> are the distinct ports of the entries;</item>
/// <item>what a slice cannot hold per endpoint (port, identity, cluster, weight, viaGateway) is kept in the
/// annotation <c>fedmesh.io/endpoints</c>: a JSON array in entry order.</item>
/// </list>
/// </summary>
internal static class EndpointSliceMapping
{
    public const string ServiceNameLabel = "kubernetes.io/service-name";
    public const string ManagedByLabel = "endpointslice.kubernetes.io/managed-by";
    public const string ManagedByValue = "fedmesh.io";
    public const string EndpointsAnnotation = "fedmesh.io/endpoints";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault };
    private static readonly string[] HiddenLabels = [ServiceNameLabel, ManagedByLabel];
    private static readonly string[] HiddenAnnotations = [EndpointsAnnotation];

    public static bool IsOurs(V1EndpointSlice slice) =>
        slice.Metadata?.Labels is { } labels && labels.TryGetValue(ManagedByLabel, out var v) && v == ManagedByValue;

    public static V1EndpointSlice ToSlice(Endpoints endpoints)
    {
        var entries = endpoints.Spec.Endpoints;
        var hosts = new List<string>(entries.Count);
        var extras = new List<EntryExtras>(entries.Count);
        var ports = new SortedSet<int>();
        foreach (var entry in entries)
        {
            var (host, port) = Split(entry.Address, endpoints);
            hosts.Add(host);
            ports.Add(port);
            extras.Add(new EntryExtras(port, entry.Identity, entry.Cluster, entry.Weight, entry.ViaGateway));
        }
        return new V1EndpointSlice
        {
            ApiVersion = "discovery.k8s.io/v1",
            Kind = "EndpointSlice",
            Metadata = MetadataMapping.ToKubernetes(endpoints,
                new Dictionary<string, string> { [ServiceNameLabel] = endpoints.Name, [ManagedByLabel] = ManagedByValue },
                new Dictionary<string, string> { [EndpointsAnnotation] = JsonSerializer.Serialize(extras, Json) }),
            AddressType = AddressType(hosts, endpoints),
            Endpoints = entries.Select((e, i) => new V1Endpoint
            {
                Addresses = [hosts[i]],
                Conditions = new V1EndpointConditions { Ready = e.Ready },
                Zone = e.Zone,
                TargetRef = string.IsNullOrEmpty(e.Instance) ? null : new V1ObjectReference { Kind = "Pod", Name = e.Instance, NamespaceProperty = endpoints.Namespace },
            }).ToList(),
            Ports = ports.Select(p => new Discoveryv1EndpointPort { Name = ports.Count == 1 ? "" : $"port-{p}", Port = p, Protocol = "TCP" }).ToList(),
        };
    }

    public static Endpoints FromSlice(V1EndpointSlice slice)
    {
        var extras = ReadExtras(slice);
        var defaultPort = slice.Ports is { Count: > 0 } p ? p[0].Port ?? 0 : 0;
        var entries = new List<EndpointEntry>();
        var sliceEndpoints = slice.Endpoints ?? [];
        for (var i = 0; i < sliceEndpoints.Count; i++)
        {
            var e = sliceEndpoints[i];
            var host = e.Addresses is { Count: > 0 } a ? a[0] : "";
            var extra = i < extras.Count ? extras[i] : null;
            var port = extra?.Port is > 0 ? extra.Port : defaultPort;
            entries.Add(new EndpointEntry
            {
                Address = Join(host, port),
                Instance = e.TargetRef?.Name,
                Identity = extra?.Identity,
                Cluster = extra?.Cluster,
                Zone = e.Zone,
                Ready = e.Conditions?.Ready ?? true,
                Weight = extra?.Weight ?? 1,
                ViaGateway = extra?.ViaGateway ?? false,
            });
        }
        return new Endpoints
        {
            Metadata = MetadataMapping.FromKubernetes(slice.Metadata, HiddenLabels, HiddenAnnotations),
            Spec = new EndpointsSpec { Endpoints = entries },
        };
    }

    private static List<EntryExtras> ReadExtras(V1EndpointSlice slice)
    {
        if (slice.Metadata?.Annotations is not { } annotations || !annotations.TryGetValue(EndpointsAnnotation, out var text))
            return [];
        try
        {
            return JsonSerializer.Deserialize<List<EntryExtras>>(text, Json) ?? [];
        }
        catch (JsonException)
        {
            return []; // Edited by hand into something else: fall back to what the slice itself says.
        }
    }

    private static (string Host, int Port) Split(string address, Endpoints owner)
    {
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(address.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            throw new ArgumentException($"{owner}: endpoint address \"{address}\" is not host:port; write it like \"10.0.0.7:4143\"");
        var host = address[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return (host, port);
    }

    /// <summary>host:port, with an IPv6 host in brackets.</summary>
    internal static string Join(string host, int port) =>
        IPAddress.TryParse(host, out var ip) && ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{host}]:{port}" : $"{host}:{port}";

    private static string AddressType(List<string> hosts, Endpoints owner)
    {
        string? type = null;
        foreach (var host in hosts)
        {
            var t = IPAddress.TryParse(host, out var ip) ? ip.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4" : "FQDN";
            if (type is not null && type != t)
                throw new ArgumentException($"{owner}: mixes {type} and {t} endpoint addresses; an EndpointSlice holds one address family, so split them into two Endpoints objects");
            type = t;
        }
        return type ?? "IPv4";
    }

    private sealed record EntryExtras(int Port, string? Identity, string? Cluster, int Weight, bool ViaGateway);
}
