using FedMesh.Core.Federation;

namespace FedMesh.Linker.Local;

/// <summary>One process of the local federation: what to run and where it answers.</summary>
/// <param name="Name">Unique name, "cluster/part" (east/controller, east/echo-east-0-proxy).</param>
/// <param name="Kind">controller | gateway | proxy | echo.</param>
/// <param name="Args">Arguments after <c>fedmesh</c>.</param>
/// <param name="Addresses">Named listen addresses (grpc, admin, listen, outbound, inbound, app).</param>
/// <param name="ReadyUrl">URL answering 200 once the part is ready.</param>
internal sealed record PartSpec(string Name, string Cluster, string Kind, IReadOnlyList<string> Args, IReadOnlyDictionary<string, string> Addresses, string ReadyUrl);

/// <summary>Derives every process of a local federation from its configuration.</summary>
internal static class PartPlanner
{
    public const string Loopback = "127.0.0.1";

    public static IReadOnlyList<PartSpec> Plan(FederationPaths paths, FederationConfig config)
    {
        var parts = new List<PartSpec>();
        foreach (var cluster in config.Clusters)
        {
            if (cluster.Type != "local") continue;
            var c = cluster.Name;
            var controllerGrpc = $"http://{Loopback}:{cluster.Controller.GrpcPort}";
            var token = paths.BootstrapTokenFile(c);
            parts.Add(new PartSpec($"{c}/controller", c, "controller",
                ["component", "controller", "--Home", paths.Home, "--Cluster", c],
                new Dictionary<string, string> { ["grpc"] = Addr(cluster.Controller.GrpcPort), ["admin"] = Addr(cluster.Controller.AdminPort) },
                $"http://{Addr(cluster.Controller.AdminPort)}/ready"));
            parts.Add(new PartSpec($"{c}/gateway", c, "gateway",
                ["component", "gateway", "--Cluster", c, "--TrustDomain", config.TrustDomain,
                 "--Listen", Addr(cluster.Gateway.Port), "--AdminListen", Addr(cluster.Gateway.AdminPort),
                 "--Controller", controllerGrpc, "--TokenFile", token],
                new Dictionary<string, string> { ["listen"] = Addr(cluster.Gateway.Port), ["admin"] = Addr(cluster.Gateway.AdminPort) },
                $"http://{Addr(cluster.Gateway.AdminPort)}/ready"));
            foreach (var workload in cluster.Workloads)
            {
                foreach (var instance in workload.Instances)
                {
                    parts.Add(new PartSpec($"{c}/{instance.Name}", c, "echo",
                        ["component", "echo", "--Listen", Addr(instance.AppPort), "--Cluster", c, "--Instance", instance.Name, "--Service", workload.Service],
                        new Dictionary<string, string> { ["app"] = Addr(instance.AppPort) },
                        $"http://{Addr(instance.AppPort)}/healthz"));
                    parts.Add(new PartSpec($"{c}/{instance.Name}-proxy", c, "proxy",
                        ["component", "proxy", "--Cluster", c, "--TrustDomain", config.TrustDomain,
                         "--Namespace", workload.Namespace, "--Service", workload.Service, "--Instance", instance.Name,
                         "--Outbound", Addr(instance.OutboundPort), "--Inbound", Addr(instance.InboundPort),
                         "--AdminListen", Addr(instance.AdminPort), "--App", $"http://{Addr(instance.AppPort)}",
                         "--Controller", controllerGrpc, "--TokenFile", token, "--Store", paths.StoreDirectory(cluster)],
                        new Dictionary<string, string>
                        {
                            ["outbound"] = Addr(instance.OutboundPort), ["inbound"] = Addr(instance.InboundPort),
                            ["admin"] = Addr(instance.AdminPort), ["app"] = Addr(instance.AppPort),
                        },
                        $"http://{Addr(instance.AdminPort)}/ready"));
                }
            }
        }
        return parts;
    }

    public static string Addr(int port) => $"{Loopback}:{port}";
}
