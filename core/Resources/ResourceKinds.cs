namespace FedMesh.Core.Resources;

/// <summary>What the store and the CLI know about one kind.</summary>
/// <param name="Kind">The kind as written in YAML ("Service").</param>
/// <param name="ApiVersion">The apiVersion it must carry.</param>
/// <param name="Plural">Lower-case plural, the store folder and the CLI name ("services").</param>
/// <param name="Aliases">Other names the CLI accepts ("svc", "service").</param>
/// <param name="Type">The CLR type.</param>
/// <param name="DefaultNamespace">Namespace used when the object names none.</param>
public sealed record ResourceKind(string Kind, string ApiVersion, string Plural, IReadOnlyList<string> Aliases, Type Type, string DefaultNamespace);

/// <summary>The catalogue of kinds.</summary>
public static class ResourceKinds
{
    public static readonly ResourceKind Service = new("Service", "v1", "services", ["service", "svc"], typeof(Service), ObjectMeta.DefaultNamespace);
    public static readonly ResourceKind Endpoints = new("Endpoints", WellKnown.ApiVersion, "endpoints", ["endpoint", "ep"], typeof(Endpoints), ObjectMeta.DefaultNamespace);
    public static readonly ResourceKind Link = new("Link", WellKnown.ApiVersion, "links", ["link"], typeof(Link), WellKnown.SystemNamespace);
    public static readonly ResourceKind TrafficSplit = new("TrafficSplit", WellKnown.ApiVersion, "trafficsplits", ["trafficsplit", "split", "splits", "ts"], typeof(TrafficSplit), ObjectMeta.DefaultNamespace);
    public static readonly ResourceKind FailoverPolicy = new("FailoverPolicy", WellKnown.ApiVersion, "failoverpolicies", ["failoverpolicy", "failover", "fp"], typeof(FailoverPolicy), ObjectMeta.DefaultNamespace);

    public static IReadOnlyList<ResourceKind> All { get; } = [Service, Endpoints, Link, TrafficSplit, FailoverPolicy];

    /// <summary>Finds a kind by its kind name, plural or alias, ignoring case.</summary>
    public static ResourceKind? Find(string name)
    {
        foreach (var k in All)
        {
            if (string.Equals(k.Kind, name, StringComparison.OrdinalIgnoreCase) || string.Equals(k.Plural, name, StringComparison.OrdinalIgnoreCase))
                return k;
            foreach (var a in k.Aliases)
                if (string.Equals(a, name, StringComparison.OrdinalIgnoreCase))
                    return k;
        }
        return null;
    }

    public static ResourceKind Of<T>() where T : Resource => Of(typeof(T));

    public static ResourceKind Of(Type type)
    {
        foreach (var k in All)
            if (k.Type == type)
                return k;
        throw new ArgumentException($"{type.Name} is not a known resource kind", nameof(type));
    }
}
