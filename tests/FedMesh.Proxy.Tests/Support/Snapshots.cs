using FedMesh.Core.Discovery.Protocol;

namespace FedMesh.Proxy.Tests.Support;

/// <summary>Builds discovery snapshots the way the controller compiles them.</summary>
internal static class Snapshots
{
    private static int _version;

    public static Snapshot Of(params Service[] services)
    {
        var snapshot = new Snapshot
        {
            Version = Interlocked.Increment(ref _version).ToString(System.Globalization.CultureInfo.InvariantCulture),
            Cluster = "east",
            TrustDomain = TestPki.TrustDomain,
        };
        snapshot.Services.Add(services);
        return snapshot;
    }

    public static Service Local(string name, params Endpoint[] endpoints)
    {
        var service = new Service { Name = name, Namespace = "default" };
        service.Endpoints.Add(endpoints);
        return service;
    }

    public static Service Mirror(string remoteName, string cluster, Endpoint gateway)
    {
        var service = new Service { Name = remoteName + "-" + cluster, Namespace = "default", MirrorOf = remoteName, MirrorCluster = cluster };
        service.Endpoints.Add(gateway);
        return service;
    }

    public static Service WithSplit(this Service service, params (string Service, uint Weight)[] backends)
    {
        service.Route = new Route();
        foreach (var (name, weight) in backends)
            service.Route.Backends.Add(new WeightedBackend { Service = name, Namespace = "default", Weight = weight });
        return service;
    }

    public static Endpoint Endpoint(string address, string identity, string cluster = "east", bool healthy = true, string instance = "")
        => new() { Address = address, Identity = identity, Cluster = cluster, Healthy = healthy, Weight = 1, Instance = instance };

    public static Endpoint Gateway(string address, string identity, string cluster)
        => new() { Address = address, Identity = identity, Cluster = cluster, Healthy = true, Weight = 1, ViaGateway = true };
}
